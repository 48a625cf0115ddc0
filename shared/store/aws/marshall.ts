/** DynamoDB's typed JSON for one value: exactly one member is set. */
export interface AttributeValue {
  S?: string;
  N?: string;
  B?: string;
  BOOL?: boolean;
  NULL?: boolean;
  SS?: string[];
  NS?: string[];
  BS?: string[];
  L?: AttributeValue[];
  M?: Record<string, AttributeValue>;
}

export type AttributeMap = Record<string, AttributeValue>;

/** A value this client refuses to store (the message names the attribute, never the value). */
export class MarshallError extends Error {
  override readonly name = 'MarshallError';
}

/**
 * Plain JS → DynamoDB JSON with the document client's options used here (`removeUndefinedValues: true`,
 * `convertEmptyValues: false`): undefined members of maps and lists are dropped; strings, finite numbers,
 * bigints, booleans, null, Uint8Array, arrays, plain objects and non-empty Sets of strings, numbers or bytes.
 */
export function marshallItem(item: Readonly<Record<string, unknown>>, path?: string): AttributeMap {
  const out: AttributeMap = {};
  for (const name of Object.keys(item)) {
    const value = item[name];
    if (value !== undefined) out[name] = marshallValue(value, path === undefined ? name : `${path}.${name}`);
  }
  return out;
}

export function marshallValue(value: unknown, path: string): AttributeValue {
  switch (typeof value) {
    case 'string':
      return { S: value };
    case 'number':
      if (!Number.isFinite(value)) throw new MarshallError(`${path}: numbers must be finite`);
      // Beyond 2^53 a JS number is already rounded: refused, as the SDK does, rather than stored inexactly.
      if (Math.abs(value) > Number.MAX_SAFE_INTEGER) throw new MarshallError(`${path}: beyond Number.MAX_SAFE_INTEGER`);
      return { N: String(value) };
    case 'bigint':
      return { N: value.toString() };
    case 'boolean':
      return { BOOL: value };
    case 'object': {
      if (value === null) return { NULL: true };
      if (Array.isArray(value)) {
        const list: AttributeValue[] = [];
        for (const [index, member] of value.entries()) {
          if (member !== undefined) list.push(marshallValue(member, `${path}[${index}]`));
        }
        return { L: list };
      }
      if (value instanceof Uint8Array) return { B: Buffer.from(value).toString('base64') };
      if (value instanceof Set) return marshallSet(value, path);
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        throw new MarshallError(`${path}: only plain objects can be stored`);
      }
      return { M: marshallItem(value as Record<string, unknown>, path) };
    }
    default:
      throw new MarshallError(`${path}: a ${typeof value} cannot be stored`);
  }
}

function marshallSet(set: Set<unknown>, path: string): AttributeValue {
  const members = [...set].filter((member) => member !== undefined);
  if (members.length === 0) throw new MarshallError(`${path}: sets cannot be empty`);
  if (members.every((member) => typeof member === 'string')) return { SS: members as string[] };
  if (members.every((member) => typeof member === 'number' || typeof member === 'bigint')) {
    return { NS: members.map((member) => marshallValue(member, path).N!) };
  }
  if (members.every((member) => member instanceof Uint8Array)) {
    return { BS: members.map((member) => Buffer.from(member as Uint8Array).toString('base64')) };
  }
  throw new MarshallError(`${path}: a set holds strings, numbers or bytes of one kind`);
}

export function unmarshallItem(item: AttributeMap): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(item)) out[name] = unmarshallValue(item[name]!);
  return out;
}

export function unmarshallValue(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return toNumber(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.M !== undefined) return unmarshallItem(value.M);
  if (value.L !== undefined) return value.L.map(unmarshallValue);
  if (value.SS !== undefined) return new Set(value.SS);
  if (value.NS !== undefined) return new Set(value.NS.map(toNumber));
  if (value.B !== undefined) return new Uint8Array(Buffer.from(value.B, 'base64'));
  if (value.BS !== undefined) return new Set(value.BS.map((member) => new Uint8Array(Buffer.from(member, 'base64'))));
  throw new MarshallError('unknown attribute type in a DynamoDB answer');
}

/** As the document client: a number that a JS number cannot hold exactly is an error, not a silent rounding. */
function toNumber(text: string): number {
  const number = Number(text);
  if (Number.isInteger(number) && !Number.isSafeInteger(number) && /^-?\d+$/.test(text)) {
    throw new MarshallError('a stored integer exceeds Number.MAX_SAFE_INTEGER');
  }
  return number;
}
