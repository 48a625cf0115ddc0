/**
 * Optional fields are absent, never `undefined` (`exactOptionalPropertyTypes`, and DynamoDB refuses
 * undefined attributes): builds a record from fields that may be undefined, leaving those out.
 *
 *   definedOnly({ ip, userAgent: request.userAgent })   // { ip } when the request named no user agent
 */
export type DefinedOnly<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

export function definedOnly<T extends object>(fields: T): DefinedOnly<T> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) out[name] = value;
  return out as DefinedOnly<T>;
}
