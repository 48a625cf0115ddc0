import { invalidRequest } from './errors';

/** The longest `Idempotency-Key` header accepted. */
export const MAX_IDEMPOTENCY_KEY = 256;

/** The `Idempotency-Key` header (POST /v1/events and /v1/click), when sent; 400 naming it when empty or too long. */
export function idempotencyKeyOf(headers: Readonly<Record<string, string | undefined>>): string | undefined {
  const key = headers['idempotency-key'];
  if (key !== undefined && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY)) {
    throw invalidRequest('invalid header: Idempotency-Key', {
      in: 'header',
      fields: { 'Idempotency-Key': `1 to ${MAX_IDEMPOTENCY_KEY} characters` },
    });
  }
  return key;
}
