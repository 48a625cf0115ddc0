import { errors } from 'google-ads-api';
import { AdAccountUnavailable, accountProblemOf } from '../../../shared/googleAds/accountAccess';
import { googleAdsAccounts } from '../../../shared/googleAds/accounts';
import { GoogleAdsSecretError } from '../../../shared/googleAds/credentials';

describe('why a linked Google Ads account cannot be used', () => {
  it('tells refused credentials from an unreachable service, from the error’s codes only', () => {
    const revoked = new errors.GoogleAdsFailure({
      errors: [
        {
          error_code: { authentication_error: errors.AuthenticationErrorEnum.AuthenticationError.OAUTH_TOKEN_REVOKED },
        },
      ],
    });
    const noAccess = new errors.GoogleAdsFailure({
      errors: [
        {
          error_code: { authorization_error: errors.AuthorizationErrorEnum.AuthorizationError.USER_PERMISSION_DENIED },
        },
      ],
    });
    const quota = new errors.GoogleAdsFailure({
      errors: [{ error_code: { quota_error: errors.QuotaErrorEnum.QuotaError.RESOURCE_EXHAUSTED } }],
    });
    expect(accountProblemOf(revoked)).toBe('authentication_failed');
    expect(accountProblemOf(noAccess)).toBe('authentication_failed');
    expect(accountProblemOf(Object.assign(new Error('16 UNAUTHENTICATED'), { code: 16 }))).toBe(
      'authentication_failed',
    );
    expect(
      accountProblemOf(Object.assign(new Error('invalid_grant'), { response: { data: { error: 'invalid_grant' } } })),
    ).toBe('authentication_failed');
    expect(accountProblemOf(Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }))).toBe('unreachable');
    expect(accountProblemOf(new Error('getaddrinfo ENOTFOUND googleads.googleapis.com'))).toBe('unreachable');
    expect(accountProblemOf(quota)).toBe('unreachable');
    expect(accountProblemOf(new GoogleAdsSecretError('the Google Ads secret is not valid JSON'))).toBe(
      'credentials_unreadable',
    );
    expect(accountProblemOf('a string')).toBe('unreachable');
  });

  it('a secret that cannot be read becomes credentials_unreadable, without the cause’s text', async () => {
    const resolve = googleAdsAccounts(async () => {
      throw new Error('AccessDenied reading {"refresh_token":"1//very-secret"}');
    });
    const failure = await resolve('prop_a', {
      provider: 'google_ads',
      customerId: '123-456-7890',
      enabled: true,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AdAccountUnavailable);
    expect((failure as AdAccountUnavailable).problem).toBe('credentials_unreadable');
    expect(JSON.stringify({ ...(failure as object), message: (failure as Error).message })).not.toContain(
      'very-secret',
    );
  });

  it('no credentials configured: the resolver answers undefined (the apply route turns it into 502)', async () => {
    const resolve = googleAdsAccounts(async () => undefined);
    expect(
      await resolve('prop_a', { provider: 'google_ads', customerId: '1234567890', enabled: true }),
    ).toBeUndefined();
  });
});
