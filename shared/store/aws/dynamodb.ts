import { AwsServiceError, errorBodyOf, errorCodeOf, type ResponseMetadata } from './errors';
import { type AttributeMap, marshallItem, unmarshallItem } from './marshall';
import { AwsWire, type Interceptor, InterceptorChain, type WireOptions, type WireResponse } from './wire';

export type { AttributeValue } from './marshall';

/**
 * The DynamoDB document client the stores use, over our own wire (./wire.ts) instead of the AWS SDK: the
 * same command names, inputs and outputs as `@aws-sdk/lib-dynamodb` (plain JS values in and out, undefined
 * members removed), the same error names, at a fraction of the CPU per call and of the bundle.
 */

/** A value the document client stores: as in `@aws-sdk/lib-dynamodb`, effectively any plain value. */
// biome-ignore lint/suspicious/noExplicitAny: the SDK's own type is this open; stores read fields they wrote.
export type NativeAttributeValue = any;
export type Document = Record<string, NativeAttributeValue>;

type ReturnValue = 'NONE' | 'ALL_OLD' | 'UPDATED_OLD' | 'ALL_NEW' | 'UPDATED_NEW';
type ReturnConsumedCapacity = 'INDEXES' | 'TOTAL' | 'NONE';
type ReturnOnConditionFailure = 'ALL_OLD' | 'NONE';

interface Names {
  ExpressionAttributeNames?: Record<string, string>;
}
interface Expressions extends Names {
  ConditionExpression?: string;
  ExpressionAttributeValues?: Document;
}
interface TableCall {
  TableName: string | undefined;
  ReturnConsumedCapacity?: ReturnConsumedCapacity;
}

export interface ConsumedCapacity {
  TableName?: string;
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
  Table?: { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
  LocalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

export interface GetCommandInput extends TableCall, Names {
  Key: Document | undefined;
  ProjectionExpression?: string;
  ConsistentRead?: boolean;
}
export interface GetCommandOutput {
  Item?: Document;
  ConsumedCapacity?: ConsumedCapacity;
}

export interface PutCommandInput extends TableCall, Expressions {
  Item: Document | undefined;
  ReturnValues?: ReturnValue;
  ReturnValuesOnConditionCheckFailure?: ReturnOnConditionFailure;
}
export interface WriteCommandOutput {
  Attributes?: Document;
  ConsumedCapacity?: ConsumedCapacity;
}

export interface UpdateCommandInput extends TableCall, Expressions {
  Key: Document | undefined;
  UpdateExpression?: string;
  ReturnValues?: ReturnValue;
  ReturnValuesOnConditionCheckFailure?: ReturnOnConditionFailure;
}

export interface DeleteCommandInput extends TableCall, Expressions {
  Key: Document | undefined;
  ReturnValues?: ReturnValue;
  ReturnValuesOnConditionCheckFailure?: ReturnOnConditionFailure;
}

export interface QueryCommandInput extends TableCall, Names {
  IndexName?: string;
  KeyConditionExpression?: string;
  FilterExpression?: string;
  ProjectionExpression?: string;
  ExpressionAttributeValues?: Document;
  ExclusiveStartKey?: Document;
  Limit?: number;
  ScanIndexForward?: boolean;
  ConsistentRead?: boolean;
  Select?: 'ALL_ATTRIBUTES' | 'ALL_PROJECTED_ATTRIBUTES' | 'SPECIFIC_ATTRIBUTES' | 'COUNT';
}
export interface QueryCommandOutput {
  Items?: Document[];
  Count?: number;
  ScannedCount?: number;
  LastEvaluatedKey?: Document;
  ConsumedCapacity?: ConsumedCapacity;
}

export interface KeysAndAttributes extends Names {
  Keys: Document[] | undefined;
  ProjectionExpression?: string;
  ConsistentRead?: boolean;
}
export interface BatchGetCommandInput {
  RequestItems: Record<string, KeysAndAttributes> | undefined;
  ReturnConsumedCapacity?: ReturnConsumedCapacity;
}
export interface BatchGetCommandOutput {
  Responses?: Record<string, Document[]>;
  UnprocessedKeys?: Record<string, KeysAndAttributes>;
  ConsumedCapacity?: ConsumedCapacity[];
}

export interface WriteRequest {
  PutRequest?: { Item: Document | undefined };
  DeleteRequest?: { Key: Document | undefined };
}
export interface BatchWriteCommandInput {
  RequestItems: Record<string, WriteRequest[]> | undefined;
  ReturnConsumedCapacity?: ReturnConsumedCapacity;
}
export interface BatchWriteCommandOutput {
  UnprocessedItems?: Record<string, WriteRequest[]>;
  ConsumedCapacity?: ConsumedCapacity[];
}

type TransactOperation<T> = T &
  Expressions & { TableName: string | undefined; ReturnValuesOnConditionCheckFailure?: ReturnOnConditionFailure };
export interface TransactWriteItem {
  ConditionCheck?: TransactOperation<{ Key: Document | undefined; ConditionExpression: string | undefined }>;
  Put?: TransactOperation<{ Item: Document | undefined }>;
  Delete?: TransactOperation<{ Key: Document | undefined }>;
  Update?: TransactOperation<{ Key: Document | undefined; UpdateExpression: string | undefined }>;
}
export interface TransactWriteCommandInput {
  TransactItems: TransactWriteItem[] | undefined;
  ClientRequestToken?: string;
  ReturnConsumedCapacity?: ReturnConsumedCapacity;
}
export interface TransactWriteCommandOutput {
  ConsumedCapacity?: ConsumedCapacity[];
}

/** One DynamoDB operation with its input; `O` is the output `send` resolves to. */
export abstract class DocumentCommand<I extends object, O> {
  /** Only carries the output type. */
  declare readonly outputShape?: O;
  constructor(readonly input: I) {}
  /** The SDK's command name (`UpdateCommand`), as observers and logs know it. */
  abstract get commandName(): string;
  /** The DynamoDB API operation (`UpdateItem`). */
  abstract get operation(): string;
}

export class GetCommand extends DocumentCommand<GetCommandInput, GetCommandOutput> {
  get commandName() {
    return 'GetCommand';
  }
  get operation() {
    return 'GetItem';
  }
}
export class PutCommand extends DocumentCommand<PutCommandInput, WriteCommandOutput> {
  get commandName() {
    return 'PutCommand';
  }
  get operation() {
    return 'PutItem';
  }
}
export class UpdateCommand extends DocumentCommand<UpdateCommandInput, WriteCommandOutput> {
  get commandName() {
    return 'UpdateCommand';
  }
  get operation() {
    return 'UpdateItem';
  }
}
export class DeleteCommand extends DocumentCommand<DeleteCommandInput, WriteCommandOutput> {
  get commandName() {
    return 'DeleteCommand';
  }
  get operation() {
    return 'DeleteItem';
  }
}
export class QueryCommand extends DocumentCommand<QueryCommandInput, QueryCommandOutput> {
  get commandName() {
    return 'QueryCommand';
  }
  get operation() {
    return 'Query';
  }
}
export class BatchGetCommand extends DocumentCommand<BatchGetCommandInput, BatchGetCommandOutput> {
  get commandName() {
    return 'BatchGetCommand';
  }
  get operation() {
    return 'BatchGetItem';
  }
}
export class BatchWriteCommand extends DocumentCommand<BatchWriteCommandInput, BatchWriteCommandOutput> {
  get commandName() {
    return 'BatchWriteCommand';
  }
  get operation() {
    return 'BatchWriteItem';
  }
}
export class TransactWriteCommand extends DocumentCommand<TransactWriteCommandInput, TransactWriteCommandOutput> {
  get commandName() {
    return 'TransactWriteCommand';
  }
  get operation() {
    return 'TransactWriteItems';
  }
}

/** Any DynamoDB error this client did not type more precisely; `name` is DynamoDB's error code. */
export class DynamoDBServiceException extends AwsServiceError {}

/** A condition expression was false. `Item` is the item as it stood (raw attribute values) when asked for. */
export class ConditionalCheckFailedException extends DynamoDBServiceException {
  Item?: AttributeMap;
}

export interface CancellationReason {
  Code?: string;
  Message?: string;
  Item?: AttributeMap;
}

/** A transaction was refused; one reason per item, in order (`Code: 'None'` for items that were fine). */
export class TransactionCanceledException extends DynamoDBServiceException {
  CancellationReasons?: CancellationReason[];
}

export class ProvisionedThroughputExceededException extends DynamoDBServiceException {}
export class ThrottlingException extends DynamoDBServiceException {}
export class RequestLimitExceeded extends DynamoDBServiceException {}
export class TransactionConflictException extends DynamoDBServiceException {}
export class ResourceNotFoundException extends DynamoDBServiceException {}

const ERROR_CLASSES: Record<string, typeof DynamoDBServiceException> = {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  ProvisionedThroughputExceededException,
  ThrottlingException,
  RequestLimitExceeded,
  TransactionConflictException,
  ResourceNotFoundException,
};

export type DocumentCommandOf = DocumentCommand<object, unknown>;

export interface SendOptions {
  readonly abortSignal?: AbortSignal;
}

export class DynamoDBDocumentClient {
  private readonly wire: AwsWire;
  private readonly interceptors = new InterceptorChain<DocumentCommandOf>();

  constructor(options: WireOptions = {}) {
    this.wire = new AwsWire('dynamodb', options);
  }

  /** Closes the client's sockets. */
  destroy(): void {
    this.wire.destroy();
  }

  /**
   * Runs `interceptor` around every command this client sends (before marshalling and retries; it may
   * change `command.input`). Returns the function that removes it.
   */
  intercept(interceptor: Interceptor<DocumentCommandOf>): () => void {
    return this.interceptors.add(interceptor);
  }

  send<I extends object, O>(command: DocumentCommand<I, O>, options: SendOptions = {}): Promise<O> {
    return this.interceptors.run(command as DocumentCommandOf, () => this.execute(command, options)) as Promise<O>;
  }

  private async execute<I extends object, O>(command: DocumentCommand<I, O>, options: SendOptions): Promise<O> {
    const response = await this.wire.call(
      {
        method: 'POST',
        path: '/',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `DynamoDB_20120810.${command.operation}`,
        },
        body: JSON.stringify(toWire(command.input as Record<string, unknown>)),
        signal: options.abortSignal,
      },
      readDynamoError,
    );
    return fromWire(JSON.parse(response.body.toString('utf8'))) as O;
  }
}

const DOCUMENT_FIELDS = new Set(['Key', 'Item', 'ExpressionAttributeValues', 'ExclusiveStartKey']);

/** Marshalls every document-valued field of a request, however deep in batch and transaction shapes. */
function toWire(input: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(input)) {
    const value = input[name];
    if (value === undefined) continue;
    if (DOCUMENT_FIELDS.has(name)) out[name] = marshallItem(value as Document);
    else if (name === 'Keys') out[name] = (value as Document[]).map((key) => marshallItem(key));
    else if (name === 'TransactItems')
      out[name] = (value as Record<string, Document>[]).map((op) => mapValues(op, toWire));
    else if (name === 'RequestItems') out[name] = mapValues(value as Record<string, unknown>, requestsToWire);
    else if (name === 'PutRequest' || name === 'DeleteRequest') out[name] = toWire(value as Document);
    else out[name] = value;
  }
  return out;
}

const requestsToWire = (value: unknown): unknown =>
  Array.isArray(value) ? value.map((request) => toWire(request)) : toWire(value as Document);

const DOCUMENT_OUTPUTS = new Set(['Item', 'Attributes', 'LastEvaluatedKey', 'Key']);

function fromWire(output: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(output)) {
    const value = output[name];
    if (DOCUMENT_OUTPUTS.has(name)) out[name] = unmarshallItem(value as AttributeMap);
    else if (name === 'Items' || name === 'Keys') out[name] = (value as AttributeMap[]).map(unmarshallItem);
    else if (name === 'Responses')
      out[name] = mapValues(value as Record<string, AttributeMap[]>, (items) => items.map(unmarshallItem));
    else if (name === 'UnprocessedKeys' || name === 'UnprocessedItems')
      out[name] = mapValues(value as Record<string, unknown>, requestsFromWire);
    else if (name === 'PutRequest' || name === 'DeleteRequest') out[name] = fromWire(value as Record<string, unknown>);
    else out[name] = value;
  }
  return out;
}

const requestsFromWire = (value: unknown): unknown =>
  Array.isArray(value) ? value.map((request) => fromWire(request)) : fromWire(value as Record<string, unknown>);

function mapValues<V, W>(record: Readonly<Record<string, V>>, map: (value: V) => W): Record<string, W> {
  const out: Record<string, W> = {};
  for (const key of Object.keys(record)) out[key] = map(record[key]!);
  return out;
}

function readDynamoError(response: WireResponse, metadata: ResponseMetadata): DynamoDBServiceException {
  const body = errorBodyOf(response.body);
  const code = errorCodeOf(response, body);
  const message = String(body.message ?? body.Message ?? `DynamoDB answered ${response.status}`);
  const error = new (ERROR_CLASSES[code] ?? DynamoDBServiceException)(code, message, metadata);
  if (error instanceof ConditionalCheckFailedException && body.Item) error.Item = body.Item as AttributeMap;
  if (error instanceof TransactionCanceledException && Array.isArray(body.CancellationReasons)) {
    error.CancellationReasons = body.CancellationReasons as CancellationReason[];
  }
  return error;
}
