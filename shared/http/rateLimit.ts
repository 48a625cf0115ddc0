import type { Principal } from '../auth/principal';
import type { RouteDef } from '../routes';

/** STUB — to be implemented (issue 2): per-property per-minute DynamoDB counter with TTL, sharded for large plans. */
export interface RateLimitState {
  readonly limit: number;
  readonly remaining: number;
  /** Epoch seconds when the current window resets. */
  readonly reset: number;
}

export async function meterRequest(
  _principal: Principal,
  _route: RouteDef,
  _sourceIp: string,
  _now: number,
): Promise<RateLimitState | undefined> {
  return undefined;
}

export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(state.limit),
    'X-RateLimit-Remaining': String(Math.max(0, state.remaining)),
    'X-RateLimit-Reset': String(state.reset),
  };
}
