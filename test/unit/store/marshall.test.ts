import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { MarshallError, marshallItem, unmarshallItem } from '../../../shared/store/aws/marshall';

const scalar = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 }),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 5 }), tie('value'), { maxKeys: 4 }),
    fc.uniqueArray(fc.string({ maxLength: 5 }), { minLength: 1, maxLength: 4 }).map((m) => new Set(m)),
    fc.uniqueArray(fc.integer(), { minLength: 1, maxLength: 4 }).map((m) => new Set(m)),
  ),
}));
const item = fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), value, { maxKeys: 6 });

it('marshalls every value exactly as the SDK document client does (removeUndefinedValues)', () => {
  fc.assert(
    fc.property(item, (doc) => {
      expect(marshallItem(doc)).toEqual(marshall(doc, { removeUndefinedValues: true, convertEmptyValues: false }));
    }),
    { numRuns: 500 },
  );
});

it('unmarshalls what it marshalls to what the SDK unmarshalls, numbers exact', () => {
  fc.assert(
    fc.property(item, (doc) => {
      const wire = JSON.parse(JSON.stringify(marshallItem(doc)));
      expect(unmarshallItem(wire)).toEqual(unmarshall(wire));
    }),
    { numRuns: 500 },
  );
  expect(unmarshallItem({ n: { N: '0.1' }, big: { N: String(Number.MAX_SAFE_INTEGER) } })).toEqual({
    n: 0.1,
    big: Number.MAX_SAFE_INTEGER,
  });
});

it('refuses what DynamoDB cannot hold, naming the attribute and never the value', () => {
  const refusal = (doc: Record<string, unknown>) => {
    try {
      marshallItem(doc);
    } catch (error) {
      return error as Error;
    }
    throw new Error('accepted');
  };
  expect(refusal({ score: Number.NaN })).toBeInstanceOf(MarshallError);
  expect(refusal({ count: 2 ** 53 }).message).toBe('count: beyond Number.MAX_SAFE_INTEGER');
  expect(refusal({ visitors: new Set() }).message).toBe('visitors: sets cannot be empty');
  const secret = refusal({ nested: { when: new Date(1_700_000_000_000) } });
  expect(secret.message).toBe('nested.when: only plain objects can be stored');
  expect(secret.message).not.toContain('1700000000000');
  expect(() => unmarshallItem({ n: { N: '9007199254740993' } })).toThrow(MarshallError);
});
