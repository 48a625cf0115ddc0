import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { buildApp } from '../../infra/app';
import type { ClicksieveStack } from '../../infra/stack';
import packageJson from '../../package.json';
import { DEFERRED_USAGE_KEY, DEFERRED_USAGE_THROTTLE } from '../../shared/auth/principal';
import { plans } from '../../shared/plans';
import {
  functionNeeds,
  type QueueConsumerDef,
  type QueueName,
  queueConsumers,
  type RouteDef,
  routes,
  type ScheduleDef,
  type SecretName,
  schedules,
} from '../../shared/routes';

type Json = Record<string, unknown>;
interface Resource {
  readonly Type: string;
  readonly Properties: Json;
  readonly DeletionPolicy?: string;
}
interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Json;
}

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const cdkContext = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')).context as Json;
const routeEntries = Object.entries(routes as Record<string, RouteDef>);
/** Every function of the route table: routes, queue consumers, schedules. */
const tableEntries = (): [string, RouteDef | QueueConsumerDef | ScheduleDef][] => [
  ...routeEntries,
  ...Object.entries(queueConsumers as Record<string, QueueConsumerDef>),
  ...Object.entries(schedules as Record<string, ScheduleDef>),
];

let outdir: string;
let stack: ClicksieveStack;
let template: Template;
let resources: Record<string, Resource>;
let templateJson: string;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'clicksieve-cdk-'));
  const built = buildApp(new App({ outdir, context: cdkContext }));
  stack = built.stack;
  // Synthesises once, bundling every function with the local esbuild and running cdk-nag; an
  // unacknowledged cdk-nag finding makes this throw.
  built.app.synth();
  template = Template.fromStack(stack);
  const json = template.toJSON() as { Resources: Record<string, Resource> };
  resources = json.Resources;
  templateJson = JSON.stringify(json);
}, 600_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const logicalId = (construct: IConstruct): string =>
  (construct.node.defaultChild as CfnElement).stack.getLogicalId(construct.node.defaultChild as CfnElement);
const resourceOf = (construct: IConstruct): Resource => resources[logicalId(construct)]!;
const fnResource = (id: string): Resource => resourceOf(stack.api.functions[id as 'click'].fn);

/** Every statement of the role's policies of one function. */
function statementsOf(id: string): Statement[] {
  const roleId = logicalId(stack.api.functions[id as 'click'].role);
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) =>
      (r.Properties.Roles as unknown[]).some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })),
    )
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const actionsOf = (statement: Statement): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];
const allActions = (id: string): string[] => statementsOf(id).flatMap(actionsOf);
const resourcesOf = (statement: Statement): unknown[] =>
  Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
const refersTo = (value: unknown, construct: IConstruct): boolean =>
  JSON.stringify(value).includes(`"${logicalId(construct)}"`);

const functionIds = () => Object.keys(stack.api.functions);
const queueOf = (name: QueueName) => stack.data.queues[name].queue;

describe('functions', () => {
  it('builds one arm64 nodejs22.x function per route, consumer and schedule, plus the authorizer', () => {
    const expected = [...Object.keys(routes), ...Object.keys(queueConsumers), ...Object.keys(schedules), 'authorizer'];
    expect(functionIds().sort()).toEqual(expected.sort());
    for (const id of expected) {
      const fn = fnResource(id);
      expect(fn.Type).toBe('AWS::Lambda::Function');
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
      });
    }
  });

  it('gives every function its own log group with retention', () => {
    for (const id of functionIds()) {
      const fn = stack.api.functions[id as 'click'];
      expect(resourceOf(fn.logGroup).Properties.RetentionInDays).toBe(30);
      expect(fnResource(id).Properties.LoggingConfig).toEqual({ LogGroup: { Ref: logicalId(fn.logGroup) } });
    }
  });

  it('merges the common environment with what bindings add', () => {
    for (const id of functionIds()) {
      const env = (fnResource(id).Properties.Environment as { Variables: Json }).Variables;
      expect(env).toMatchObject({
        TABLE_NAME: { Ref: logicalId(stack.data.table) },
        COUNTERS_TABLE_NAME: { Ref: logicalId(stack.data.counters) },
        BUCKET_NAME: { Ref: logicalId(stack.data.bucket) },
        QUEUE_URL_BEACONS: { Ref: logicalId(queueOf('beacons')) },
        QUEUE_URL_CONVERSIONS: { Ref: logicalId(queueOf('conversions')) },
        QUEUE_URL_EXPORTS: { Ref: logicalId(queueOf('exports')) },
        POWERTOOLS_SERVICE_NAME: 'clicksieve',
        CLICKSIEVE_VERSION: packageJson.version,
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
    const createPropertyEnv = (fnResource('createProperty').Properties.Environment as { Variables: Json }).Variables;
    expect(createPropertyEnv.ADMIN_KEY_SECRET_ARN).toEqual({ Ref: logicalId(stack.data.adminKey) });
    const usagePlanIds = JSON.stringify(createPropertyEnv.USAGE_PLAN_IDS);
    for (const plan of plans) expect(usagePlanIds).toContain(`\\"${plan.id}\\":\\"`);
    for (const usagePlan of Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::UsagePlan')) {
      expect(usagePlan).toBeDefined();
    }
  });

  const assetDir = (id: string) => {
    const code = fnResource(id).Properties.Code as { S3Key: string };
    return path.join(outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
  };

  it('ships the IP-intelligence snapshot inside every function that scores, and in the refresh (its fallback)', () => {
    const needsSnapshot = new Set([
      ...routeEntries.filter(([, route]) => route.intel).map(([id]) => id),
      ...Object.entries(queueConsumers)
        .filter(([, consumer]) => (consumer as { intel?: boolean }).intel)
        .map(([id]) => id),
      'intelRefresh',
    ]);
    expect(needsSnapshot.has('click')).toBe(true);
    for (const id of functionIds()) {
      expect({ id, snapshot: existsSync(path.join(assetDir(id), 'ipintel.bin')) }).toEqual({
        id,
        snapshot: needsSnapshot.has(id),
      });
    }
  });

  it('bundles the SDK into a single CommonJS file with a source map', () => {
    const bundle = readFileSync(path.join(assetDir('health'), 'index.js'), 'utf8');
    expect(bundle.length).toBeGreaterThan(1000);
    // The SDK is bundled: no client is left for the runtime to resolve.
    expect(/\brequire\("@(aws-sdk\/client-|smithy\/)/.test(bundle)).toBe(false);
    expect(readFileSync(path.join(assetDir('health'), 'index.js.map'), 'utf8')).toContain('"mappings"');
  });

  it('sets consumer timeouts so the queue visibility timeout is at least six times longer', () => {
    for (const [id, consumer] of Object.entries(queueConsumers)) {
      const timeout = fnResource(id).Properties.Timeout as number;
      expect(timeout * 6).toBeLessThanOrEqual(consumer.visibilityTimeoutSeconds);
      expect(resourceOf(queueOf(consumer.queue)).Properties.VisibilityTimeout).toBe(consumer.visibilityTimeoutSeconds);
    }
  });
});

describe('least-privilege IAM', () => {
  it('grants no service-wide or wildcard actions and no Resource "*" except for X-Ray', () => {
    for (const id of functionIds()) {
      for (const statement of statementsOf(id)) {
        expect(statement.Effect).toBe('Allow');
        for (const action of actionsOf(statement)) expect(action).not.toMatch(/^[a-z0-9-]+:\*$|^\*$/);
        if (resourcesOf(statement).includes('*')) {
          expect(actionsOf(statement).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
        }
      }
    }
  });

  it('keeps the click function out of S3 writes and limits its reads to intel/', () => {
    const actions = allActions('click');
    expect(actions).not.toContain('s3:PutObject');
    expect(actions).not.toContain('s3:DeleteObject');
    const getObject = statementsOf('click').filter((s) => actionsOf(s).includes('s3:GetObject'));
    expect(getObject).toHaveLength(1);
    expect(JSON.stringify(getObject[0]!.Resource)).toContain('/intel/*');
    // The click counter's message only: sent, to the counts queue.
    const sqs = statementsOf('click').filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:')));
    expect(sqs).toHaveLength(1);
    expect(actionsOf(sqs[0]!)).toEqual(['sqs:SendMessage']);
    expect(resourcesOf(sqs[0]!)).toEqual([{ 'Fn::GetAtt': [logicalId(queueOf('counts')), 'Arn'] }]);
  });

  it('lets the beacon function only send, and only to the beacons queue', () => {
    const sqs = statementsOf('beacon').filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:')));
    expect(sqs).toHaveLength(1);
    expect(actionsOf(sqs[0]!)).toEqual(['sqs:SendMessage']);
    expect(resourcesOf(sqs[0]!)).toEqual([{ 'Fn::GetAtt': [logicalId(queueOf('beacons')), 'Arn'] }]);
    expect(allActions('beacon').filter((a) => a.startsWith('s3:'))).toEqual([]);
  });

  it('gives publishers sqs:SendMessage on exactly the queues they publish to', () => {
    for (const [id, route] of routeEntries) {
      const sendTo = statementsOf(id)
        .filter((s) => actionsOf(s).includes('sqs:SendMessage'))
        .flatMap(resourcesOf)
        .map((r) => JSON.stringify(r))
        .sort();
      const expected = (route.publishes ?? [])
        .map((name) => JSON.stringify({ 'Fn::GetAtt': [logicalId(queueOf(name)), 'Arn'] }))
        .sort();
      expect({ id, sendTo }).toEqual({ id, sendTo: expected });
    }
  });

  it('gives public routes no data access and the authorizer read-only table access', () => {
    for (const [id, route] of routeEntries.filter(([, r]) => r.auth.length === 0)) {
      expect({ id, actions: allActions(id).filter((a) => /^(dynamodb|s3|sqs|secretsmanager):/.test(a)) }).toEqual({
        id,
        actions: [],
      });
      expect(route.auth).toEqual([]);
    }
    const authorizer = allActions('authorizer');
    expect(authorizer).toContain('dynamodb:GetItem');
    expect(authorizer.filter((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(a))).toEqual([]);
  });

  it('limits every bucket grant to the prefix the route table names, and listing to the same prefix', () => {
    // Derived from the route table: `bucketPrefix` of the entry, plus `intel/` for functions that score.
    const expectedPrefix: Record<string, string[]> = Object.fromEntries(
      tableEntries().map(([id, def]) => {
        const needs = functionNeeds(def);
        return [id, [...(needs.bucket ? [needs.bucket.prefix] : []), ...(needs.intel ? ['intel/'] : [])].sort()];
      }),
    );
    expect(expectedPrefix.click).toEqual(['intel/']);
    expect(expectedPrefix.exportWriter).toEqual(['exports/']);
    for (const id of functionIds()) {
      const objectStatements = statementsOf(id).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('s3:') && a !== 's3:ListBucket'),
      );
      const prefixes = objectStatements.map((s) => /\/([a-z]+\/)\*"/.exec(JSON.stringify(s.Resource))?.[1]).sort();
      expect({ id, prefixes }).toEqual({ id, prefixes: expectedPrefix[id] ?? [] });
      for (const list of statementsOf(id).filter((s) => actionsOf(s).includes('s3:ListBucket'))) {
        expect(list.Condition).toEqual({ StringLike: { 's3:prefix': [expect.stringMatching(/^[a-z]+\/\*$/)] } });
      }
    }
    expect(allActions('botExportStatus')).not.toContain('s3:PutObject');
    expect(allActions('exportWriter')).toContain('s3:PutObject');
  });

  it('lets exactly the functions the route table names read each secret, with its ARN in their environment', () => {
    const secrets: Record<SecretName, { construct: IConstruct; env: string }> = {
      adminKey: { construct: stack.data.adminKey, env: 'ADMIN_KEY_SECRET_ARN' },
      tokenSigningKey: { construct: stack.data.tokenSigningKey, env: 'TOKEN_SIGNING_SECRET_ARN' },
      googleAds: { construct: stack.data.googleAdsCredentials, env: 'GOOGLE_ADS_SECRET_ARN' },
    };
    const readers = (secret: IConstruct) =>
      functionIds()
        .filter((id) =>
          statementsOf(id).some(
            (s) => actionsOf(s).includes('secretsmanager:GetSecretValue') && refersTo(s.Resource, secret),
          ),
        )
        .sort();
    for (const [name, { construct, env }] of Object.entries(secrets) as [SecretName, (typeof secrets)['adminKey']][]) {
      const declared = tableEntries()
        .filter(([, def]) => functionNeeds(def).secrets.includes(name))
        .map(([id]) => id);
      // The authorizer is the one function outside the route table: it checks the admin key.
      const expected = [...declared, ...(name === 'adminKey' ? ['authorizer'] : [])].sort();
      expect({ name, readers: readers(construct) }).toEqual({ name, readers: expected });
      for (const id of functionIds()) {
        const variables = (fnResource(id).Properties.Environment as { Variables: Json }).Variables;
        expect({ id, env: variables[env] }).toEqual({
          id,
          env: expected.includes(id) ? { Ref: logicalId(construct) } : undefined,
        });
      }
    }
  });

  it('lets every function that issues or verifies click tokens read the signing key, the conversion webhook included', () => {
    // POST /v1/webhook/conversion finds a click by `click_token`: on AWS it answered 500 without the key.
    for (const id of ['conversion', 'click', 'events', 'clickTokens', 'botVerdict']) {
      const variables = (fnResource(id).Properties.Environment as { Variables: Json }).Variables;
      expect({ id, env: variables.TOKEN_SIGNING_SECRET_ARN }).toEqual({
        id,
        env: { Ref: logicalId(stack.data.tokenSigningKey) },
      });
      expect(
        statementsOf(id).some(
          (s) =>
            actionsOf(s).includes('secretsmanager:GetSecretValue') && refersTo(s.Resource, stack.data.tokenSigningKey),
        ),
      ).toBe(true);
    }
  });

  it('gives each function the table access the route table implies', () => {
    const writes = /^dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)$/;
    for (const [id, def] of tableEntries()) {
      const actions = allActions(id).filter((a) => a.startsWith('dynamodb:'));
      const access = functionNeeds(def).table;
      const granted = actions.length === 0 ? undefined : actions.some((a) => writes.test(a)) ? 'readWrite' : 'read';
      expect({ id, granted }).toEqual({ id, granted: access });
    }
  });

  it('lets only the key-managing routes call API Gateway, on API keys and this API’s usage plans', () => {
    const managers = functionIds().filter((id) => allActions(id).some((a) => a.startsWith('apigateway:')));
    expect(managers.sort()).toEqual(
      routeEntries
        .filter(([, r]) => r.managesApiKeys)
        .map(([id]) => id)
        .sort(),
    );
    for (const id of managers) {
      const statement = statementsOf(id).find((s) => actionsOf(s).includes('apigateway:POST'))!;
      const targets = resourcesOf(statement).map((r) => JSON.stringify(r));
      expect(targets.every((t) => /::\/apikeys|::\/usageplans\//.test(t))).toBe(true);
      expect(targets.filter((t) => t.includes('/usageplans/'))).toHaveLength(plans.length * 2);
    }
  });
});

describe('API', () => {
  const methodOf = (route: RouteDef) => {
    const resource = stack.api.api.root.resourceForPath(route.path);
    return resourceOf(resource.node.findChild(route.method));
  };

  it('has a method for every route with the right authorizer and API-key requirement', () => {
    const authorizerId = Object.entries(resources).find(([, r]) => r.Type === 'AWS::ApiGateway::Authorizer')![0];
    for (const [id, route] of routeEntries) {
      const method = methodOf(route).Properties;
      expect(method.HttpMethod).toBe(route.method);
      expect(method.OperationName).toBe(id);
      if (route.auth.length === 0) {
        expect(method.AuthorizationType).toBe('NONE');
        expect(method.AuthorizerId).toBeUndefined();
      } else {
        expect(method.AuthorizationType).toBe('CUSTOM');
        expect(method.AuthorizerId).toEqual({ Ref: authorizerId });
      }
      expect({ id, apiKeyRequired: method.ApiKeyRequired ?? false }).toEqual({
        id,
        apiKeyRequired: route.auth.length > 0 && route.browser !== true && !route.auth.includes('admin'),
      });
      const integration = JSON.stringify(method.Integration);
      const fn = stack.api.functions[id as 'click'];
      const target = fn.functionName ?? logicalId(fn.fn);
      expect(integration).toContain(target);
      expect(method.Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
    }
  });

  it('serves paths under /v1 from the route table', () => {
    const paths = routeEntries.map(([, r]) => r.path);
    expect(paths.every((p) => p.startsWith('/v1/'))).toBe(true);
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::Method').length).toBeGreaterThanOrEqual(
      paths.length,
    );
  });

  it('lets API Gateway invoke every route function, scoped to this API', () => {
    for (const [id] of routeEntries) {
      const fn = stack.api.functions[id as 'click'].fn;
      const permissions = Object.values(resources).filter(
        (r) =>
          r.Type === 'AWS::Lambda::Permission' &&
          r.Properties.Principal === 'apigateway.amazonaws.com' &&
          refersTo(r.Properties.FunctionName, fn),
      );
      expect({ id, count: permissions.length }).toEqual({ id, count: 1 });
      expect(refersTo(permissions[0]!.Properties.SourceArn, stack.api.api)).toBe(true);
    }
  });

  it('answers CORS preflights on browser routes without auth', () => {
    for (const [, route] of routeEntries.filter(([, r]) => r.browser)) {
      const resource = stack.api.api.root.resourceForPath(route.path);
      const options = resourceOf(resource.node.findChild('OPTIONS')).Properties;
      expect(options.AuthorizationType).toBe('NONE');
      const headers = JSON.stringify(options.Integration);
      expect(headers).toContain("'*'");
      for (const header of ['content-type', 'x-api-key', 'x-app-key', 'x-app-secret', 'authorization']) {
        expect(headers).toContain(header);
      }
    }
  });

  it('uses one uncached REQUEST authorizer that always runs, and the authorizer as API key source', () => {
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      AuthorizerResultTtlInSeconds: 0,
      IdentitySource: Match.absent(),
    });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { ApiKeySourceType: 'AUTHORIZER' });
  });

  it('logs access and traces on the stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
  });

  it('has one usage plan per plan with its throttle and monthly quota on the stage', () => {
    const stageId = Object.entries(resources).find(([, r]) => r.Type === 'AWS::ApiGateway::Stage')![0];
    for (const plan of plans) {
      template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
        UsagePlanName: `clicksieve-${plan.id}`,
        Throttle: { RateLimit: plan.ratePerMinute / 60, BurstLimit: plan.burst },
        Quota: { Limit: plan.monthlyAllowance, Period: 'MONTH' },
        ApiStages: [{ ApiId: Match.anyValue(), Stage: { Ref: stageId } }],
      });
    }
    // Plus the throttle-only plan of the authorizer's deferred answers, with its fixed (non-credential) key.
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: 'clicksieve-deferred',
      Throttle: { RateLimit: DEFERRED_USAGE_THROTTLE.ratePerSecond, BurstLimit: DEFERRED_USAGE_THROTTLE.burst },
      Quota: Match.absent(),
      ApiStages: [{ ApiId: Match.anyValue(), Stage: { Ref: stageId } }],
    });
    template.hasResourceProperties('AWS::ApiGateway::ApiKey', { Value: DEFERRED_USAGE_KEY });
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::UsagePlan')).toHaveLength(
      plans.length + 1,
    );
  });

  it.each([
    ['UNAUTHORIZED', '401', 'UNAUTHORIZED'],
    ['ACCESS_DENIED', '403', 'FORBIDDEN'],
    ['MISSING_AUTHENTICATION_TOKEN', '404', 'NOT_FOUND'],
    ['THROTTLED', '429', 'RATE_LIMITED'],
    ['QUOTA_EXCEEDED', '402', 'PAYMENT_REQUIRED'],
    ['REQUEST_TOO_LARGE', '413', 'PAYLOAD_TOO_LARGE'],
    ['UNSUPPORTED_MEDIA_TYPE', '415', 'UNSUPPORTED_MEDIA_TYPE'],
    ['BAD_REQUEST_BODY', '400', 'INVALID_REQUEST'],
    ['BAD_REQUEST_PARAMETERS', '400', 'INVALID_REQUEST'],
    ['DEFAULT_4XX', undefined, 'INVALID_REQUEST'],
    ['DEFAULT_5XX', undefined, 'SERVER_ERROR'],
  ])('answers gateway response %s with %s and the contract body', (type, status, code) => {
    const response = Object.values(resources).find(
      (r) => r.Type === 'AWS::ApiGateway::GatewayResponse' && r.Properties.ResponseType === type,
    )!;
    expect(response.Properties.StatusCode).toBe(status);
    const body = JSON.parse((response.Properties.ResponseTemplates as Json)['application/json'] as string);
    expect(body).toEqual({ error: expect.any(String), code, details: {} });
    expect(response.Properties.ResponseParameters).toMatchObject({
      'gatewayresponse.header.Content-Type': "'application/json'",
    });
    if (type === 'THROTTLED') {
      expect(response.Properties.ResponseParameters).toMatchObject({ 'gatewayresponse.header.Retry-After': "'1'" });
    }
  });
});

describe('queues and schedules', () => {
  it('gives each queue a DLQ with the consumer’s maxReceiveCount, SSE and TLS-only access', () => {
    for (const consumer of Object.values(queueConsumers)) {
      const work = stack.data.queues[consumer.queue];
      const queue = resourceOf(work.queue).Properties;
      expect(queue.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(work.deadLetterQueue), 'Arn'] },
        maxReceiveCount: consumer.maxReceiveCount,
      });
      expect(queue.SqsManagedSseEnabled).toBe(true);
      const dlq = resourceOf(work.deadLetterQueue).Properties;
      expect(dlq).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
      for (const q of [work.queue, work.deadLetterQueue]) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: logicalId(q) }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        });
      }
    }
  });

  it('maps each queue to its consumer with partial batch responses', () => {
    for (const [id, consumer] of Object.entries(queueConsumers)) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId(stack.api.functions[id as 'beaconScorer'].fn) },
        EventSourceArn: { 'Fn::GetAtt': [logicalId(queueOf(consumer.queue)), 'Arn'] },
        BatchSize: consumer.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
    const mappings = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    for (const mapping of mappings)
      expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('runs every schedule of the route table on its expression', () => {
    for (const [id, schedule] of Object.entries(schedules as Record<string, ScheduleDef>)) {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: schedule.expression,
        State: 'ENABLED',
        Targets: [
          Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(stack.api.functions[id as 'statsRollup'].fn), 'Arn'] } }),
        ],
      });
      expect(fnResource(id).Properties.Timeout).toBe(schedule.timeoutSeconds ?? 60);
    }
  });
});

describe('data', () => {
  it('has a retained on-demand table with PITR, SSE, TTL and both GSIs', () => {
    const table = resourceOf(stack.data.table);
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
    const indexes = table.Properties.GlobalSecondaryIndexes as { IndexName: string; Projection: Json }[];
    expect(indexes.map((i) => i.IndexName).sort()).toEqual(['gsi1', 'gsi2']);
    // The click index holds keys only (a re-score never writes it); the directory index is read whole.
    const projections = Object.fromEntries(indexes.map((i) => [i.IndexName, i.Projection]));
    expect(projections).toEqual({ gsi1: { ProjectionType: 'KEYS_ONLY' }, gsi2: { ProjectionType: 'ALL' } });
  });

  it('keeps the velocity counters in a table of their own: on-demand, SSE, TTL, no index, no recovery', () => {
    const counters = resourceOf(stack.data.counters);
    expect(counters.DeletionPolicy).toBe('Delete');
    expect(counters.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
    expect(counters.Properties.GlobalSecondaryIndexes).toBeUndefined();
    expect(counters.Properties.PointInTimeRecoverySpecification).toBeUndefined();
    // The click function writes both tables.
    const clickPolicies = JSON.stringify(
      Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
        JSON.stringify(policy.Properties.Roles).includes(logicalId(stack.api.functions.click.fn.role!)),
      ),
    );
    expect(clickPolicies).toContain(logicalId(stack.data.counters));
    expect(clickPolicies).toContain(logicalId(stack.data.table));
  });

  it('has a private, encrypted, TLS-only, logged bucket with lifecycle rules', () => {
    const bucket = resourceOf(stack.data.bucket);
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: { Ref: expect.any(String) } },
    });
    const rules = (bucket.Properties.LifecycleConfiguration as { Rules: Json[] }).Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Prefix: 'exports/', ExpirationInDays: 30, Status: 'Enabled' }),
        expect.objectContaining({ Prefix: 'intel/', ExpirationInDays: 30, Status: 'Enabled' }),
        expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
      ]),
    );
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(stack.data.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('generates secrets in Secrets Manager and never puts secret material in the template', () => {
    for (const secret of [stack.data.adminKey, stack.data.tokenSigningKey]) {
      expect(resourceOf(secret).Properties.GenerateSecretString).toMatchObject({ ExcludePunctuation: true });
      expect(resourceOf(secret).Properties.SecretString).toBeUndefined();
    }
    expect(JSON.parse(resourceOf(stack.data.googleAdsCredentials).Properties.SecretString as string)).toEqual({
      developer_token: '',
      client_id: '',
      client_secret: '',
      refresh_token: '',
      login_customer_id: '',
    });
    expect(templateJson).not.toMatch(/\b(sk|pk|whsec)_[A-Za-z0-9]/);
    expect(templateJson).not.toContain('resolve:secretsmanager');
    const outputs = JSON.stringify(template.toJSON().Outputs);
    for (const secret of [stack.data.adminKey, stack.data.tokenSigningKey, stack.data.googleAdsCredentials]) {
      expect(outputs).not.toContain(`"Fn::GetAtt":["${logicalId(secret)}"`);
    }
  });

  it('outputs the API URL, the admin and Google Ads secret ARNs, the bucket and the table', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(['ApiUrl', 'AdminKeySecretArn', 'GoogleAdsSecretArn', 'BucketName', 'TableName']),
    );
    expect(outputs.AdminKeySecretArn!.Value).toEqual({ Ref: logicalId(stack.data.adminKey) });
    expect(outputs.GoogleAdsSecretArn!.Value).toEqual({ Ref: logicalId(stack.data.googleAdsCredentials) });
    expect(outputs.TableName!.Value).toEqual({ Ref: logicalId(stack.data.table) });
  });
});

describe('cdk-nag', () => {
  it('reports no unacknowledged AwsSolutions finding', () => {
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations?: unknown[] }[];
    };
    expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
  });

  it('fails synth when a finding is not acknowledged', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clicksieve-nag-'));
    try {
      // Without bundling: this synth is only about the nag plugin.
      const context = { ...cdkContext, 'aws:cdk:bundling-stacks': [] };
      const { app, stack: bad } = buildApp(new App({ outdir: dir, context }));
      new Queue(bad as Stack, 'UnencryptedQueue');
      expect(() => app.synth()).toThrow();
      expect(readFileSync(path.join(dir, 'validation-report.json'), 'utf8')).toContain('AwsSolutions-SQS3');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
