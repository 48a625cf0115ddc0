import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { ENV } from '../../shared/config/env';
import { recordedAccount } from '../../shared/googleAds/accounts';
import { newId } from '../../shared/ids';
import { updateConfig } from '../../shared/properties';
import { clickStores } from '../../shared/store';
import { type Credentials, startTestStack, type TestStack } from './support';

/**
 * The exclusions routes and the `clicksieve exclusions` CLI on the local stack, whose Google Ads is the
 * recorded transport (google-ads-api's own Customer answered through its hooks; no network).
 */
let stack: TestStack;
const run = promisify(execFile);
const CLI = path.resolve(__dirname, '../../bin/clicksieve.js');

beforeAll(async () => {
  stack = await startTestStack({ pollers: false, env: { [ENV.googleAdsTransport]: 'recorded' } });
});
afterAll(async () => {
  await stack?.stop();
  delete process.env[ENV.googleAdsTransport];
});

/** `clicks` clicks from the address, as the click counter records them (each once, by click id). */
async function seen(propertyId: string, ip: string, score: number, reason = 'datacenter_ip', clicks = 1) {
  for (let i = 0; i < clicks; i++) {
    const at = Date.now() - 60_000 + i;
    await clickStores().ipReputation.recordIpOutcome({ propertyId, ip, at, score, reason, clickId: newId('clk_') });
  }
}

const customer = () => String(randomInt(1_000_000_000, 9_999_999_999));

/** The operator's link (admin key only): set through the domain, not the route. */
async function link(property: Credentials, customerId: string): Promise<void> {
  await updateConfig(property.id, { adAccount: { provider: 'google_ads', customerId, enabled: true } }, 'admin');
}

async function cli(args: string[], secretKey: string) {
  try {
    const { stdout } = await run(process.execPath, [CLI, 'exclusions', ...args, '--api', stack.url], {
      env: { ...process.env, CLICKSIEVE_SECRET_KEY: secretKey },
    });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('exclusions over the API', () => {
  it('plans before any account is linked, saying the account state is unknown; only the own secret key may ask', async () => {
    const [property, other] = [await stack.createProperty(), await stack.createProperty()];
    await seen(property.id, '198.51.100.1', 95);
    await seen(property.id, '198.51.100.2', 50);
    const planPath = `/v1/property/${property.id}/exclusions/plan`;
    const plan = await stack.fetchJson(planPath, { apiKey: property.secretKey });
    expect(plan.status).toBe(200);
    expect(plan.body).toMatchObject({ mode: 'not_linked', accountState: 'unknown', manual: [], remove: [] });
    expect(plan.body.accountStateNote).toMatch(/no ad account is linked/);
    expect(plan.body.add).toEqual([
      expect.objectContaining({
        value: '198.51.100.1',
        level: 'account',
        score: 95,
        clicks: 1,
        reason: 'datacenter_ip (1 click)',
      }),
    ]);

    expect((await stack.fetchJson(planPath, { apiKey: property.publicKey })).status).toBe(403);
    expect((await stack.fetchJson(planPath, { apiKey: other.secretKey })).status).toBe(403);
    const foreignDelete = await stack.fetchJson(`/v1/property/${property.id}/exclusions?value=198.51.100.1`, {
      method: 'DELETE',
      apiKey: other.secretKey,
    });
    expect(foreignDelete.status).toBe(403);
    const apply = await stack.fetchJson(`/v1/property/${property.id}/exclusions/apply`, {
      method: 'POST',
      apiKey: property.publicKey,
    });
    expect([401, 403]).toContain(apply.status);
  });

  it('plan and apply through the CLI, list and change log, a second apply is a no-op', async () => {
    const property = await stack.createProperty();
    const customerId = customer();
    await link(property, customerId);
    await seen(property.id, '198.51.100.1', 95);
    for (const host of [1, 2, 3]) await seen(property.id, `192.0.2.${host}`, 90, 'velocity');

    const planned = await cli(['plan', '--property', property.id], property.secretKey);
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain('mode apply, account state known');
    expect(planned.stdout).toMatch(/\+ 198\.51\.100\.1\s+account\s+score 95\s+datacenter_ip/);
    expect(planned.stdout).toMatch(/\+ 192\.0\.2\.0\/24\s+account/);
    expect(planned.stdout).toContain('collapsed 192.0.2.0/24 <- 192.0.2.1, 192.0.2.2, 192.0.2.3');
    expect(planned.stdout).toContain('campaign 1002 PERFORMANCE_MAX (account-level exclusions only)');
    expect(recordedAccount(customerId).mutateCalls()).toEqual([]);

    const applied = await cli(['apply', '--property', property.id], property.secretKey);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/added 2, removed 0, failed 0/);
    expect(recordedAccount(customerId).snapshot()).toEqual({
      '1001': ['203.0.113.7'],
      account: ['192.0.2.0/24', '198.51.100.1'],
    });

    const listed = await stack.fetchJson(`/v1/property/${property.id}/exclusions`, { apiKey: property.secretKey });
    expect(listed.status).toBe(200);
    expect(listed.body.accountState).toBe('known');
    expect(listed.body.excluded).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          value: '198.51.100.1',
          level: 'account',
          by: 'clicksieve',
          reason: 'datacenter_ip (1 click)',
        }),
        { value: '203.0.113.7', level: 'campaign', campaignId: '1001', by: 'advertiser' },
      ]),
    );
    expect(listed.body.changeLog.map((e: { action: string }) => e.action)).toEqual(['added', 'added']);

    const again = await cli(['apply', '--property', property.id, '--json'], property.secretKey);
    expect(JSON.parse(again.stdout)).toMatchObject({ added: 0, removed: 0, failed: [] });
  });

  it('DELETE takes an entry or a run back out of the account and keeps it out until allowed again', async () => {
    const property = await stack.createProperty();
    const customerId = customer();
    await link(property, customerId);
    await seen(property.id, '198.51.100.1', 95);
    await seen(property.id, '198.51.100.77', 92);
    const base = `/v1/property/${property.id}/exclusions`;
    const first = await stack.fetchJson(`${base}/apply`, { method: 'POST', apiKey: property.secretKey });
    expect(first.body.added).toBe(2);

    const one = await stack.fetchJson(`${base}?value=198.51.100.1`, { method: 'DELETE', apiKey: property.secretKey });
    expect(one.status).toBe(200);
    expect(one.body).toEqual({
      removed: [{ value: '198.51.100.1', level: 'account' }],
      takenBack: ['198.51.100.1'],
      pending: [],
    });
    expect(recordedAccount(customerId).snapshot().account).toEqual(['198.51.100.77']);
    const plan = await stack.fetchJson(`${base}/plan`, { apiKey: property.secretKey });
    expect(plan.body.add).toEqual([]);

    const runId = first.body.runId as string;
    const wholeRun = await stack.fetchJson(`${base}?runId=${runId}`, { method: 'DELETE', apiKey: property.secretKey });
    expect(wholeRun.body.removed).toEqual([{ value: '198.51.100.77', level: 'account' }]);
    expect(recordedAccount(customerId).snapshot().account).toBeUndefined();
    expect(recordedAccount(customerId).snapshot()['1001']).toEqual(['203.0.113.7']);

    const allow = await stack.fetchJson(`${base}/taken-back?value=198.51.100.1`, {
      method: 'DELETE',
      apiKey: property.secretKey,
    });
    expect(allow.status).toBe(204);
    const replanned = await stack.fetchJson(`${base}/plan`, { apiKey: property.secretKey });
    expect(replanned.body.add.map((a: { value: string }) => a.value)).toEqual(['198.51.100.1']);

    for (const query of ['', '?value=not-an-ip', '?value=198.51.100.1&runId=abc', '?runId=a%20b']) {
      const bad = await stack.fetchJson(`${base}${query}`, { method: 'DELETE', apiKey: property.secretKey });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe('INVALID_REQUEST');
    }
    const unknownRun = await stack.fetchJson(`${base}?runId=no-such-run`, {
      method: 'DELETE',
      apiKey: property.secretKey,
    });
    expect(unknownRun.status).toBe(404);
  });

  it('monitor-only and dry-run record the plan but change nothing in the account', async () => {
    for (const config of [{ monitorOnly: true }, { exclusionDryRun: true }]) {
      const property = await stack.createProperty();
      const customerId = customer();
      await link(property, customerId);
      const put = await stack.fetchJson(`/v1/properties/${property.id}/config`, {
        method: 'PUT',
        apiKey: property.secretKey,
        body: config,
      });
      expect(put.status).toBe(200);
      await seen(property.id, '198.51.100.1', 95);
      const report = await stack.fetchJson(`/v1/property/${property.id}/exclusions/apply`, {
        method: 'POST',
        apiKey: property.secretKey,
      });
      expect(report.body).toMatchObject({ added: 0, removed: 0 });
      expect(report.body.plan.add).toHaveLength(1);
      expect(recordedAccount(customerId).mutateCalls()).toEqual([]);
      const listed = await stack.fetchJson(`/v1/property/${property.id}/exclusions`, { apiKey: property.secretKey });
      expect(listed.body.changeLog[0]).toMatchObject({ action: 'dry_run' });
    }
  });
});

describe('the Microsoft Advertising file over the API', () => {
  it('downloads the same selection in Microsoft’s syntax: ranked, a /24 as a.b.c.*, IPv4 only, allowlist and take-backs out', async () => {
    const property = await stack.createProperty();
    await updateConfig(property.id, { allowlist: ['192.0.2.0/24'] }, 'admin');
    await seen(property.id, '198.51.100.7', 97, 'velocity, "burst"');
    for (const [i, score] of [91, 92, 93].entries()) await seen(property.id, `203.0.113.${i + 1}`, score);
    await seen(property.id, '192.0.2.5', 99);
    await seen(property.id, '100.64.0.9', 95);
    await seen(property.id, '198.51.100.200', 40);
    await seen(property.id, '2001:db8::7', 99);
    const taken = await stack.fetchJson(`/v1/property/${property.id}/exclusions?value=100.64.0.9`, {
      method: 'DELETE',
      apiKey: property.secretKey,
    });
    expect(taken.status).toBe(200);

    const path = `/v1/property/${property.id}/exclusions/microsoft.csv?campaignId=812345678`;
    const file = await stack.fetchJson<string>(path, { apiKey: property.readonlyKey });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(file.headers.get('content-disposition')).toBe(
      `attachment; filename="microsoft-ip-exclusions-${property.id}.csv"`,
    );
    const lines = file.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('IP address,Campaign Id,Score,Clicks,Last seen (UTC),Reason');
    // The range (three addresses, three clicks) outranks the single surer address: volume counts.
    expect(lines[1]).toMatch(
      /^203\.0\.113\.\*,812345678,93,3,[^,]+,3 bad addresses in 203\.0\.113\.0\/24 \(3 clicks\); top: datacenter_ip$/,
    );
    expect(lines[2]).toMatch(/^198\.51\.100\.7,812345678,97,1,[^,]+,"velocity, ""burst"" \(1 click\)"$/);
    expect(lines).toHaveLength(3);
    expect(file.body).not.toMatch(/192\.0\.2\.5|100\.64\.0\.9|198\.51\.100\.200|2001:db8/);

    const limited = await stack.fetchJson<string>(`/v1/property/${property.id}/exclusions/microsoft.csv?limit=1`, {
      apiKey: property.secretKey,
    });
    expect(limited.status).toBe(200);
    expect(
      limited.body
        .trimEnd()
        .split('\r\n')
        .slice(1)
        .map((l) => l.split(',')[0]),
    ).toEqual(['203.0.113.*']);
    for (const query of ['campaignId=abc', 'limit=101', 'limit=0']) {
      const bad = await stack.fetchJson(`/v1/property/${property.id}/exclusions/microsoft.csv?${query}`, {
        apiKey: property.secretKey,
      });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ code: 'INVALID_REQUEST', details: expect.any(Object) });
    }
  });

  it('is not for the public key nor for another tenant', async () => {
    const [property, other] = [await stack.createProperty(), await stack.createProperty()];
    await seen(property.id, '198.51.100.7', 97);
    const path = `/v1/property/${property.id}/exclusions/microsoft.csv`;
    expect([401, 403]).toContain((await stack.fetchJson(path, { apiKey: property.publicKey })).status);
    expect((await stack.fetchJson(path)).status).toBe(401);
    const foreign = await stack.fetchJson(path, { apiKey: other.secretKey });
    expect(foreign.status).toBe(403);
    expect(JSON.stringify(foreign.body)).not.toContain('198.51.100.7');
    expect((await stack.fetchJson(path, { apiKey: other.readonlyKey })).status).toBe(403);
  });
});

describe('when the ad account cannot be used', () => {
  const apply = (property: Credentials) =>
    stack.fetchJson(`/v1/property/${property.id}/exclusions/apply`, { method: 'POST', apiKey: property.secretKey });
  /** The contract's error body and nothing else: no stack, no library message, no credential. */
  const expectBareError = (body: Record<string, unknown>) => {
    expect(Object.keys(body).sort()).toEqual(['code', 'details', 'error']);
    expect(JSON.stringify(body)).not.toMatch(
      /OAUTH|Authentication of the request|UNAVAILABLE|recorded|at .*\.ts|stack/,
    );
  };

  it('apply answers 409 when no link allows a push, and changes nothing', async () => {
    const property = await stack.createProperty();
    await seen(property.id, '198.51.100.1', 95);
    const unlinked = await apply(property);
    expect(unlinked.status).toBe(409);
    expect(unlinked.body).toMatchObject({ code: 'CONFLICT', details: { reason: 'not_linked' } });
    expectBareError(unlinked.body);

    const customerId = customer();
    await updateConfig(property.id, { adAccount: { provider: 'google_ads', customerId, enabled: false } }, 'admin');
    const disabled = await apply(property);
    expect(disabled.status).toBe(409);
    expect(disabled.body).toMatchObject({ code: 'CONFLICT', details: { reason: 'link_disabled' } });
    expect(recordedAccount(customerId).calls).toEqual([]);
  });

  it('apply answers 502 with the reason when the account refuses the credentials or cannot be reached; plan and list still answer', async () => {
    const property = await stack.createProperty();
    const customerId = customer();
    await link(property, customerId);
    await seen(property.id, '198.51.100.1', 95);
    const account = recordedAccount(customerId);

    account.refuse('authentication');
    const refused = await apply(property);
    expect(refused.status).toBe(502);
    expect(refused.body).toMatchObject({
      code: 'AD_ACCOUNT_UNREACHABLE',
      details: { provider: 'google_ads', reason: 'authentication_failed', runId: expect.any(String) },
    });
    expect(refused.body.error).toMatch(/nothing was changed/);
    expectBareError(refused.body);
    expect(account.mutateCalls()).toEqual([]);

    const plan = await stack.fetchJson(`/v1/property/${property.id}/exclusions/plan`, { apiKey: property.secretKey });
    expect(plan.status).toBe(200);
    expect(plan.body).toMatchObject({
      mode: 'apply',
      accountState: 'unknown',
      accountProblem: 'authentication_failed',
    });
    expect(plan.body.add.map((a: { value: string }) => a.value)).toEqual(['198.51.100.1']);
    const listed = await stack.fetchJson(`/v1/property/${property.id}/exclusions`, { apiKey: property.secretKey });
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ accountState: 'unknown', accountProblem: 'authentication_failed' });

    account.refuse('network');
    const down = await apply(property);
    expect(down.status).toBe(502);
    expect(down.body.details.reason).toBe('unreachable');
    expectBareError(down.body);

    // Nothing of the refused runs was recorded: once reachable, the push adds the address as if first asked.
    account.refuse(undefined);
    const ok = await apply(property);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ added: 1, failed: [] });
  });

  it('DELETE while the account cannot be reached takes the entry back and leaves the removal pending for the next push', async () => {
    const property = await stack.createProperty();
    const customerId = customer();
    await link(property, customerId);
    await seen(property.id, '198.51.100.1', 95);
    expect((await apply(property)).body.added).toBe(1);
    const account = recordedAccount(customerId);

    account.refuse('network');
    const taken = await stack.fetchJson(`/v1/property/${property.id}/exclusions?value=198.51.100.1`, {
      method: 'DELETE',
      apiKey: property.secretKey,
    });
    expect(taken.status).toBe(200);
    expect(taken.body).toEqual({
      removed: [],
      takenBack: ['198.51.100.1'],
      pending: [{ value: '198.51.100.1', level: 'account' }],
      accountProblem: 'unreachable',
    });
    expect(account.snapshot().account).toEqual(['198.51.100.1']);

    account.refuse(undefined);
    const next = await apply(property);
    expect(next.body).toMatchObject({ added: 0, removed: 1 });
    expect(account.snapshot().account).toBeUndefined();
  });

  it('apply answers 502 credentials_not_configured on a deployment without Google Ads credentials', async () => {
    const property = await stack.createProperty();
    await link(property, customer());
    await seen(property.id, '198.51.100.1', 95);
    delete process.env[ENV.googleAdsTransport];
    try {
      const response = await apply(property);
      expect(response.status).toBe(502);
      expect(response.body.details).toMatchObject({ reason: 'credentials_not_configured' });
      expectBareError(response.body);
      const plan = await stack.fetchJson(`/v1/property/${property.id}/exclusions/plan`, { apiKey: property.secretKey });
      expect(plan.body).toMatchObject({ accountState: 'unknown', accountProblem: 'credentials_not_configured' });
    } finally {
      process.env[ENV.googleAdsTransport] = 'recorded';
    }
  });
});
