import type { DynamoDBDocumentClient } from '../../../shared/store/aws/dynamodb';
import { BATCH_GET_MAX, batchGet } from '../../../shared/store/batchGet';

/**
 * The one BatchGetItem reader: requests of at most 100 keys, unprocessed keys (throttling) asked again until none
 * is left, the consistency and projection passed through, and a read that stays throttled fails rather than
 * returning a partial answer.
 */
type Key = { pk: string };
interface Sent {
  readonly keys: Key[];
  readonly consistent: unknown;
  readonly projection: unknown;
}

function fakeClient(unprocessedPerCall: (call: number, keys: Key[]) => Key[]) {
  const sent: Sent[] = [];
  const client = {
    async send(command: {
      input: { RequestItems: Record<string, { Keys: Key[]; ConsistentRead?: boolean; ProjectionExpression?: string }> };
    }) {
      const request = command.input.RequestItems.t!;
      sent.push({ keys: request.Keys, consistent: request.ConsistentRead, projection: request.ProjectionExpression });
      const unprocessed = unprocessedPerCall(sent.length, request.Keys);
      const answered = request.Keys.filter((key) => !unprocessed.includes(key));
      return {
        Responses: { t: answered.map((key) => ({ ...key, found: true })) },
        UnprocessedKeys: unprocessed.length > 0 ? { t: { Keys: unprocessed } } : {},
      };
    },
  };
  return { client: client as unknown as DynamoDBDocumentClient, sent };
}

const keys = (n: number): Key[] => Array.from({ length: n }, (_, i) => ({ pk: `K#${i}` }));

it('reads in requests of at most 100 keys and passes consistency and projection through', async () => {
  const { client, sent } = fakeClient(() => []);
  const items = await batchGet(client, 't', keys(250), { consistent: false, projection: 'pk' });
  expect(items.map((item) => item.pk).sort()).toEqual(
    keys(250)
      .map((key) => key.pk)
      .sort(),
  );
  expect(sent.map((s) => s.keys.length)).toEqual([BATCH_GET_MAX, BATCH_GET_MAX, 50]);
  expect(sent.every((s) => s.consistent === false && s.projection === 'pk')).toBe(true);
});

it('asks again for the keys DynamoDB left unprocessed until every item is read', async () => {
  const { client, sent } = fakeClient((call, asked) => (call <= 2 ? asked.slice(0, 10) : []));
  const items = await batchGet(client, 't', keys(30), { consistent: true });
  expect(items).toHaveLength(30);
  expect(sent.map((s) => s.keys.length)).toEqual([30, 10, 10]);
  expect(sent.every((s) => s.consistent === true)).toBe(true);
});

it('fails rather than answer with items missing when the keys stay unprocessed', async () => {
  const { client } = fakeClient((_call, asked) => asked.slice(0, 1));
  await expect(batchGet(client, 't', keys(3), { consistent: true })).rejects.toThrow('unprocessed keys remain');
}, 30_000);
