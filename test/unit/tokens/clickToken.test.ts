import fc from 'fast-check';
import { issueClickToken, verifyClickToken } from '../../../shared/tokens';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const NOW = Date.UTC(2026, 4, 10);

describe('click tokens', () => {
  it('round-trips its payload for any provider, campaign and ttl', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 128 }),
        fc.option(fc.string({ maxLength: 64 }), { nil: undefined }),
        fc.integer({ min: 60, max: 604_800 }),
        (provider, campaign, ttlSeconds) => {
          const issued = issueClickToken(KEY, { propertyId: 'prop_a', provider, campaign, ttlSeconds, nowMs: NOW });
          expect(issued.token).toMatch(/^ct_[A-Za-z0-9_.-]+$/);
          const check = verifyClickToken(KEY, issued.token, NOW + 1000, 'prop_a');
          expect(check).toEqual({
            status: 'ok',
            payload: expect.objectContaining({
              propertyId: 'prop_a',
              provider,
              tokenId: issued.tokenId,
              expiresAt: issued.expiresAt / 1000,
            }),
          });
          if (check.status === 'ok') expect(check.payload.campaign).toBe(campaign);
        },
      ),
    );
  });

  it('rejects any single-character tampering', () => {
    const { token } = issueClickToken(KEY, {
      propertyId: 'prop_a',
      provider: 'acme',
      campaign: 'spring',
      ttlSeconds: 3600,
      nowMs: NOW,
    });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    fc.assert(
      fc.property(fc.integer({ min: 0, max: token.length - 1 }), fc.constantFrom(...alphabet), (at, ch) => {
        fc.pre(token[at] !== ch);
        const tampered = token.slice(0, at) + ch + token.slice(at + 1);
        return verifyClickToken(KEY, tampered, NOW, 'prop_a').status === 'invalid';
      }),
    );
  });

  it('reports expiry, another key, another property and garbage', () => {
    const { token } = issueClickToken(KEY, { propertyId: 'prop_a', provider: 'acme', ttlSeconds: 60, nowMs: NOW });
    expect(verifyClickToken(KEY, token, NOW + 60_000, 'prop_a').status).toBe('expired');
    expect(verifyClickToken(Buffer.alloc(32, 1), token, NOW, 'prop_a')).toEqual({
      status: 'invalid',
      reason: 'signature',
    });
    expect(verifyClickToken(KEY, token, NOW, 'prop_b')).toEqual({ status: 'invalid', reason: 'property' });
    for (const junk of ['ct_', 'ct_1.', 'ct_1..', 'ct_2.abc.def', 'ct_1.e30.' + 'A'.repeat(43), 'x'.repeat(2000)]) {
      expect(verifyClickToken(KEY, junk, NOW).status).toBe('invalid');
    }
  });
});
