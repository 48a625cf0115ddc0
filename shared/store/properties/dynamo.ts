import {
  type CredentialRecord,
  type KeyHashes,
  PropertyExistsError,
  PropertyMissingError,
  type PropertyPatch,
  type PropertyRecord,
  type PropertyStore,
} from '../../properties/model';
import {
  ConditionalCheckFailedException,
  type DynamoDBDocumentClient,
  GetCommand,
  TransactionCanceledException,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '../aws/dynamodb';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const propertyKey = (id: string) => ({ pk: `PROP#${id}`, sk: 'META' });
/** Every property sits in GSI2 under one key, so scheduled jobs list properties with a Query, never a Scan. */
export const PROPERTY_DIRECTORY = { gsi2pk: 'PROPS' } as const;
const credentialKey = (hash: string) => ({ pk: `KEY#${hash}`, sk: 'KEY' });

/** Properties in the single table: `PROP#<id>`/`META` and one `KEY#<sha256>`/`KEY` item per credential. */
export class DynamoPropertyStore implements PropertyStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(id: string, consistent = false): Promise<PropertyRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: propertyKey(id), ConsistentRead: consistent }),
    );
    if (!Item) return undefined;
    const { pk: _pk, sk: _sk, gsi2pk: _gpk, gsi2sk: _gsk, ...record } = Item;
    return record as PropertyRecord;
  }

  async findCredential(hash: string): Promise<CredentialRecord | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: credentialKey(hash) }));
    if (!Item) return undefined;
    return {
      hash: Item.hash as string,
      propertyId: Item.propertyId as string,
      kind: Item.kind as CredentialRecord['kind'],
    };
  }

  async create(property: PropertyRecord): Promise<void> {
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: { ...propertyKey(property.id), ...PROPERTY_DIRECTORY, gsi2sk: property.id, ...property },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      ...Object.entries(property.keyHashes)
        .filter((entry): entry is [string, string] => entry[1] !== undefined)
        .map(([kind, hash]) => this.putCredential(hash, property.id, kind)),
    ];
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException) throw new PropertyExistsError(property.id);
      throw error;
    }
  }

  async replaceKeys(id: string, replacements: Partial<KeyHashes>, updatedAt: string): Promise<void> {
    const current = await this.get(id, true);
    if (!current) throw new PropertyMissingError(id);
    const entries = Object.entries(replacements) as [keyof KeyHashes, string][];
    const names: Record<string, string> = { '#keyHashes': 'keyHashes', '#updatedAt': 'updatedAt' };
    const values: Record<string, unknown> = { ':updatedAt': updatedAt };
    const sets = ['#updatedAt = :updatedAt'];
    const conditions = ['attribute_exists(pk)'];
    entries.forEach(([kind, hash], i) => {
      names[`#k${i}`] = kind;
      values[`:new${i}`] = hash;
      sets.push(`#keyHashes.#k${i} = :new${i}`);
      // Two rotations racing: the second one fails instead of leaving an orphaned key behind.
      const old = current.keyHashes[kind];
      if (old === undefined) {
        conditions.push(`attribute_not_exists(#keyHashes.#k${i})`);
      } else {
        values[`:old${i}`] = old;
        conditions.push(`#keyHashes.#k${i} = :old${i}`);
      }
    });
    const items: TransactItem[] = [
      {
        Update: {
          TableName: this.tableName,
          Key: propertyKey(id),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      },
      ...entries.flatMap(([kind, hash]): TransactItem[] => {
        const old = current.keyHashes[kind];
        return [
          ...(old === undefined ? [] : [{ Delete: { TableName: this.tableName, Key: credentialKey(old) } }]),
          this.putCredential(hash, id, kind),
        ];
      }),
    ];
    await this.client.send(new TransactWriteCommand({ TransactItems: items }));
  }

  async update(id: string, patch: PropertyPatch, updatedAt: string): Promise<void> {
    const names: Record<string, string> = { '#updatedAt': 'updatedAt' };
    const values: Record<string, unknown> = { ':updatedAt': updatedAt };
    const sets = ['#updatedAt = :updatedAt'];
    const removes: string[] = [];
    const { config, ...fields } = patch;
    Object.entries(fields).forEach(([field, value], i) => {
      if (value === undefined) return;
      names[`#f${i}`] = field;
      values[`:f${i}`] = value;
      sets.push(`#f${i} = :f${i}`);
    });
    // Field by field, so two PUTs changing different settings do not overwrite each other.
    Object.entries(config ?? {}).forEach(([field, value], i) => {
      names['#config'] = 'config';
      names[`#c${i}`] = field;
      if (value === undefined) {
        removes.push(`#config.#c${i}`);
      } else {
        values[`:c${i}`] = value;
        sets.push(`#config.#c${i} = :c${i}`);
      }
    });
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: propertyKey(id),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new PropertyMissingError(id);
      throw error;
    }
  }

  private putCredential(hash: string, propertyId: string, kind: string): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: { ...credentialKey(hash), hash, propertyId, kind },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }
}
