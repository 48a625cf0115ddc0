import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { ClicksieveFunction } from '../../infra/constructs/clicksieve-function';

const ENTRY = 'test/cdk/fixtures/handler.ts';

let workdir: string;
let template: Template;
let stack: Stack;
let withSnapshot: ClicksieveFunction;
let withoutSnapshot: ClicksieveFunction;
let googleAds: ClicksieveFunction;
let queue: Queue;
const snapshotBytes = Buffer.from('snapshot-under-test');

beforeAll(() => {
  workdir = mkdtempSync(path.join(tmpdir(), 'clicksieve-fn-'));
  const snapshotFile = path.join(workdir, 'ipintel.bin');
  writeFileSync(snapshotFile, snapshotBytes);
  // The app's own feature flags (minimizePolicies sorts and merges statements).
  const context = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'cdk.json'), 'utf8')).context;
  const app = new App({ outdir: path.join(workdir, 'out'), context });
  stack = new Stack(app, 'FunctionTest');
  const common = { TABLE_NAME: 'common-table', POWERTOOLS_SERVICE_NAME: 'clicksieve' };
  withSnapshot = new ClicksieveFunction(stack, 'WithSnapshot', {
    entry: ENTRY,
    description: 'snapshot present',
    timeout: Duration.seconds(3),
    environment: { ...common, EXTRA: 'kept' },
    intelSnapshot: true,
    intelSnapshotFile: snapshotFile,
  });
  withoutSnapshot = new ClicksieveFunction(stack, 'WithoutSnapshot', {
    entry: ENTRY,
    description: 'snapshot missing',
    timeout: Duration.seconds(3),
    environment: common,
    intelSnapshot: true,
    intelSnapshotFile: path.join(workdir, 'not-built-yet.bin'),
  });
  googleAds = new ClicksieveFunction(stack, 'GoogleAds', {
    entry: 'functions/scheduled/blocklist-push.ts',
    description: 'reaches Google Ads',
    timeout: Duration.seconds(3),
    environment: common,
    googleAdsApi: true,
  });
  queue = new Queue(stack, 'Queue');
  withSnapshot.bindQueue(queue, 'QUEUE_URL_TEST');
  app.synth();
  template = Template.fromStack(stack);
}, 300_000);

afterAll(() => {
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

const logicalId = (fn: ClicksieveFunction) => stack.getLogicalId(fn.fn.node.defaultChild as CfnElement);
const resource = (fn: ClicksieveFunction) =>
  (template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>)[logicalId(fn)]!;
const assetDir = (fn: ClicksieveFunction) => {
  const code = resource(fn).Properties.Code as { S3Key: string };
  return path.join(workdir, 'out', `asset.${code.S3Key.replace(/\.zip$/, '')}`);
};

describe('ClicksieveFunction', () => {
  it('copies the intel snapshot next to index.js when it exists', () => {
    expect(readFileSync(path.join(assetDir(withSnapshot), 'ipintel.bin'))).toEqual(snapshotBytes);
    expect(existsSync(path.join(assetDir(withSnapshot), 'index.js'))).toBe(true);
  });

  it('still synthesises without a snapshot and ships none', () => {
    expect(existsSync(path.join(assetDir(withoutSnapshot), 'index.js'))).toBe(true);
    expect(existsSync(path.join(assetDir(withoutSnapshot), 'ipintel.bin'))).toBe(false);
  });

  it('ships google-ads-api beside a Google Ads function, required only when an account is reached', () => {
    const dir = assetDir(googleAds);
    const index = readFileSync(path.join(dir, 'index.js'), 'utf8');
    expect(index.length).toBeLessThan(600 * 1024);
    expect(index).toContain('require("./googleAdsApi")');
    expect(statSync(path.join(dir, 'googleAdsApi.js')).size).toBeGreaterThan(10 * 1024 * 1024);
    const exported = execFileSync(
      process.execPath,
      [
        '-e',
        `process.stdout.write(Object.keys(require(${JSON.stringify(path.join(dir, 'googleAdsApi.js'))})).sort().join())`,
      ],
      { encoding: 'utf8' },
    );
    expect(exported).toBe('GoogleAdsAccount,RecordedGoogleAds,customerFor');
    // The other functions carry neither.
    expect(existsSync(path.join(assetDir(withSnapshot), 'googleAdsApi.js'))).toBe(false);
  });

  it('merges the common environment with what bindings add', () => {
    const env = (resource(withSnapshot).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toEqual({
      TABLE_NAME: 'common-table',
      POWERTOOLS_SERVICE_NAME: 'clicksieve',
      EXTRA: 'kept',
      NODE_OPTIONS: '--enable-source-maps',
      QUEUE_URL_TEST: { Ref: stack.getLogicalId(queue.node.defaultChild as CfnElement) },
    });
  });

  it('runs on arm64 nodejs22.x with tracing and its own role', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 3,
      TracingConfig: { Mode: 'Active' },
      Role: { 'Fn::GetAtt': [stack.getLogicalId(withSnapshot.role.node.defaultChild as CfnElement), 'Arn'] },
    });
  });

  it('grants a bound queue sqs:SendMessage and nothing else', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(withSnapshot.role.node.defaultChild as CfnElement) }],
      PolicyDocument: {
        Statement: [
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: {
              'Fn::GetAtt': [stack.getLogicalId(withSnapshot.logGroup.node.defaultChild as CfnElement), 'Arn'],
            },
          },
          { Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' },
          {
            Action: 'sqs:SendMessage',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [stack.getLogicalId(queue.node.defaultChild as CfnElement), 'Arn'] },
          },
        ],
      },
    });
  });
});
