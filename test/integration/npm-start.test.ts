import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type LocalStackProcess, startLocalStackProcess } from '../../infra/local/process';

/**
 * `npm start` as a user runs it (infra/local/start.ts in a process of its own, with its own emulators): it prints
 * how to call it, what it prints works, and its data survives a restart. The other integration tests run the same
 * gateway and handlers in-process against the suite's shared emulators.
 */
jest.setTimeout(240_000);

const dataDir = mkdtempSync(path.join(tmpdir(), 'clicksieve-npm-start-'));
let running: LocalStackProcess | undefined;

afterAll(async () => {
  await running?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Demo {
  readonly id: string;
  readonly publicKey: string;
  readonly secretKey: string;
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('npm start', () => {
  it('prints how to call it, answers what it prints, and keeps its data across a restart', async () => {
    running = await startLocalStackProcess({ dataDir });
    const banner = running.output();
    const demo = JSON.parse(readFileSync(path.join(dataDir, 'demo-property.json'), 'utf8')) as Demo;
    const adminKey = readFileSync(path.join(dataDir, 'admin-key'), 'utf8').trim();
    expect(banner).toContain(`admin key    ${adminKey}`);
    expect(banner).toContain(`demo property ${demo.id}`);
    expect(banner).toContain(`public key     ${demo.publicKey}`);
    expect(banner).toMatch(
      /emulators {4}DynamoDB Local http:\/\/127\.0\.0\.1:\d+ \(tables clicksieve, clicksieve-counters\)/,
    );

    // The printed health check and public-key click, as printed.
    expect((await fetch(`${running.api}/v1/health`)).status).toBe(200);
    const printedClick = /curl -s -X POST \S+\/v1\/click -H 'content-type: application\/json' -d '(.+)'$/m.exec(banner);
    expect(printedClick).not.toBeNull();
    const publicClick = await post(`${running.api}/v1/click`, JSON.parse(printedClick![1]!));
    expect(publicClick.status).toBe(200);
    expect(await publicClick.json()).toMatchObject({ status: expect.stringMatching(/^(clean|suspicious|fraud)$/) });

    // A secret-key click with a visitor, answered by GET /v1/decision.
    const click = await post(
      `${running.api}/v1/click`,
      { ip: '81.2.69.200', user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', visitor_id: 'vis_restart' },
      { 'x-api-key': demo.secretKey },
    );
    expect(click.status).toBe(200);
    const answered = (await click.json()) as { status: string; score: number };
    const before = await fetch(`${running.api}/v1/decision?visitorId=vis_restart`, {
      headers: { 'x-api-key': demo.secretKey },
    });
    expect(before.status).toBe(200);
    const decided = (await before.json()) as { score: number; label: string };
    expect(decided.label).toBe(answered.status.toUpperCase());

    // Ctrl-C stops it cleanly; started again on the same directory, it is the same service.
    expect(await running.stop()).toBe(0);
    running = await startLocalStackProcess({ dataDir });
    expect(running.output()).toContain(`admin key    ${adminKey}`);
    expect(running.output()).toContain(`demo property ${demo.id}`);
    const after = await fetch(`${running.api}/v1/decision?visitorId=vis_restart`, {
      headers: { 'x-api-key': demo.secretKey },
    });
    expect(after.status).toBe(200);
    expect(await after.json()).toEqual(decided);
    const unknown = await fetch(`${running.api}/v1/decision?visitorId=vis_never_seen`, {
      headers: { 'x-api-key': demo.secretKey },
    });
    expect(unknown.status).toBe(404);
    expect(await running.stop()).toBe(0);
    running = undefined;
  });
});
