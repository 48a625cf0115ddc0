import { ArnFormat, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  ApiKeySourceType,
  AuthorizationType,
  type CfnAuthorizer,
  Cors,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  type MethodOptions,
  Period,
  RequestAuthorizer,
  RestApi,
  type UsagePlan,
} from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Function as LambdaFn } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import packageJson from '../../package.json';
import { DEFERRED_USAGE_KEY, DEFERRED_USAGE_THROTTLE } from '../../shared/auth/principal';
import { ENV } from '../../shared/config/env';
import { plans } from '../../shared/plans';
import {
  browserRequestHeaders,
  functionNeeds,
  type QueueConsumerDef,
  type QueueConsumerId,
  type QueueName,
  queueConsumers,
  queueNames,
  type RouteDef,
  type RouteId,
  routes,
  type ScheduleDef,
  type ScheduleId,
  type SecretName,
  schedules,
  usesUsagePlan,
} from '../../shared/routes';
import { carriesIntelSnapshot } from './bundling';
import { ClicksieveFunction, type ClicksieveFunctionProps } from './clicksieve-function';
import { pascal, VISIBILITY_TO_TIMEOUT_RATIO } from './data-store';
import { addContractGatewayResponses } from './gateway-responses';

/** What the API is handed by the data store. */
interface DataResources {
  readonly table: ITable;
  /** The velocity counters' table (shared/store/table.ts COUNTERS_TABLE). */
  readonly counters: ITable;
  readonly queues: Readonly<Record<QueueName, IQueue>>;
  readonly bucket: IBucket;
  readonly adminKey: ISecret;
  readonly tokenSigningKey: ISecret;
  readonly googleAdsCredentials: ISecret;
}

interface ClicksieveApiProps {
  readonly data: DataResources;
}

type FunctionId = RouteId | QueueConsumerId | ScheduleId;

const INTEL_PREFIX = 'intel/';
/** Default per-method throttle of the stage. */
const STAGE_THROTTLE = { ratePerSecond: 5000, burst: 5000 } as const;
/** The environment variable that carries each secret's ARN. */
const SECRET_ENV: Record<SecretName, string> = {
  adminKey: ENV.adminKeySecretArn,
  tokenSigningKey: ENV.tokenSigningSecretArn,
  googleAds: ENV.googleAdsSecretArn,
};
const API_TIMEOUT = Duration.seconds(10);
const AUTHORIZER_TIMEOUT = Duration.seconds(5);
const DEFAULT_SCHEDULE_TIMEOUT_SECONDS = 60;

/**
 * The REST API, one Lambda per route of shared/routes.ts, the authorizer, the queue consumers and the
 * schedules — all generated from the route table, so adding a route there adds it here.
 */
export class ClicksieveApi extends Construct {
  readonly api: RestApi;
  readonly functions: Readonly<Record<FunctionId | 'authorizer', ClicksieveFunction>>;

  private readonly data: DataResources;
  private readonly commonEnvironment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: ClicksieveApiProps) {
    super(scope, id);
    this.data = props.data;
    this.commonEnvironment = {
      [ENV.tableName]: this.data.table.tableName,
      [ENV.countersTableName]: this.data.counters.tableName,
      [ENV.bucketName]: this.data.bucket.bucketName,
      ...Object.fromEntries(queueNames.map((name) => [ENV.queueUrl[name], this.data.queues[name].queueUrl])),
      POWERTOOLS_SERVICE_NAME: 'clicksieve',
      [ENV.version]: packageJson.version,
    };

    const functions: Partial<Record<FunctionId | 'authorizer', ClicksieveFunction>> = {};
    const authorizerFn = this.newFunction('Authorizer', {
      entry: 'functions/api/authorizer.ts',
      description: 'Resolves x-api-key / X-App-Key+Secret / Bearer / ?token= to a property and its API key',
      timeout: AUTHORIZER_TIMEOUT,
    })
      .bindTable(this.data.table, 'read')
      .bindSecret(this.data.adminKey, ENV.adminKeySecretArn);
    functions.authorizer = authorizerFn;

    this.api = new RestApi(this, 'Api', {
      restApiName: 'clicksieve',
      description: 'clicksieve click-fraud detection API',
      endpointTypes: [EndpointType.REGIONAL],
      // Credentials arrive in several shapes; the authorizer maps each to the property's API key.
      apiKeySourceType: ApiKeySourceType.AUTHORIZER,
      cloudWatchRole: true,
      deployOptions: {
        stageName: 'prod',
        // Every method's ceiling, below the account's 10,000 req/s: a flood on one method (say, public-key
        // clicks) cannot take the whole account's API Gateway budget from the others. Usage plans and the
        // optional WAF rate rule (context wafRateLimit) act before this, per property and per address.
        throttlingRateLimit: STAGE_THROTTLE.ratePerSecond,
        throttlingBurstLimit: STAGE_THROTTLE.burst,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new LogGroupLogDestination(
          new LogGroup(this, 'AccessLogs', { retention: RetentionDays.THREE_MONTHS }),
        ),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
      },
    });
    addContractGatewayResponses(this.api);

    const authorizer = new RequestAuthorizer(this, 'CredentialsAuthorizer', {
      handler: authorizerFn.fn,
      // No identity sources: credentials may be in any of several headers or the query (or, for
      // browser routes, the body), so the authorizer must always run. No cache: a rotated key fails at once.
      identitySources: [],
      resultsCacheTtl: Duration.seconds(0),
    });
    (authorizer.node.defaultChild as CfnAuthorizer).addPropertyDeletionOverride('IdentitySource');

    const usagePlans = new Map<string, UsagePlan>();
    for (const plan of plans) {
      const usagePlan = this.api.addUsagePlan(`Plan${pascal(plan.id)}`, {
        name: `clicksieve-${plan.id}`,
        description: plan.description ?? plan.name,
        throttle: { rateLimit: plan.ratePerMinute / 60, burstLimit: plan.burst },
        quota: { limit: plan.monthlyAllowance, period: Period.MONTH },
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      usagePlans.set(plan.id, usagePlan);
    }
    this.addDeferredUsagePlan();

    const preflightPaths = new Set<string>();
    for (const [routeId, route] of Object.entries(routes) as [RouteId, RouteDef][]) {
      const fn = this.routeFunction(routeId, route, [...usagePlans.values()]);
      functions[routeId] = fn;

      const resource = this.api.root.resourceForPath(route.path);
      const options: MethodOptions =
        route.auth.length === 0
          ? { authorizationType: AuthorizationType.NONE }
          : {
              authorizationType: AuthorizationType.CUSTOM,
              authorizer,
              apiKeyRequired: usesUsagePlan(route),
            };
      resource.addMethod(
        route.method,
        new LambdaIntegration(this.integrationTarget(routeId, route, fn), { allowTestInvoke: false }),
        {
          ...options,
          operationName: routeId,
        },
      );
      if (route.browser && !preflightPaths.has(route.path)) {
        preflightPaths.add(route.path);
        resource.addCorsPreflight({
          allowOrigins: Cors.ALL_ORIGINS,
          allowHeaders: [...browserRequestHeaders],
          allowMethods: browserMethodsAt(route.path),
          maxAge: Duration.hours(1),
        });
      }
    }

    for (const [consumerId, consumer] of Object.entries(queueConsumers) as [QueueConsumerId, QueueConsumerDef][]) {
      functions[consumerId] = this.consumerFunction(consumerId, consumer);
    }
    for (const [scheduleId, schedule] of Object.entries(schedules) as [ScheduleId, ScheduleDef][]) {
      functions[scheduleId] = this.scheduledFunction(scheduleId, schedule);
    }
    this.functions = functions as Record<FunctionId | 'authorizer', ClicksieveFunction>;

    this.acknowledgeApiFindings();
  }

  /**
   * A function whose environment names the usage plans cannot be referenced by its method: that closes
   * the loop deployment → method → function → usage plan → stage → deployment. Such a function has a
   * fixed name, the method reaches it by ARN, and the invoke permission is granted on the function itself.
   */
  private integrationTarget(id: RouteId, route: RouteDef, fn: ClicksieveFunction) {
    if (!route.managesApiKeys) return fn.fn;
    fn.fn.addPermission('ApiGatewayInvoke', {
      principal: new ServicePrincipal('apigateway.amazonaws.com'),
      sourceArn: this.api.arnForExecuteApi(route.method, route.path, this.api.deploymentStage.stageName),
    });
    return LambdaFn.fromFunctionAttributes(this, `${pascal(id)}ByName`, {
      functionArn: Stack.of(this).formatArn({
        service: 'lambda',
        resource: 'function',
        resourceName: fn.functionName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
      sameEnvironment: true,
      skipPermissions: true,
    });
  }

  private newFunction(id: string, props: Omit<ClicksieveFunctionProps, 'environment'>): ClicksieveFunction {
    return new ClicksieveFunction(this, id, { ...props, environment: this.commonEnvironment });
  }

  private routeFunction(id: RouteId, route: RouteDef, usagePlans: readonly UsagePlan[]): ClicksieveFunction {
    const fn = this.newFunction(pascal(id), {
      entry: route.handler,
      functionName: route.managesApiKeys ? `${Stack.of(this).stackName}-${pascal(id)}` : undefined,
      description: `${route.method} ${route.path}: ${route.summary}`.slice(0, 256),
      timeout: API_TIMEOUT,
      memorySize: route.intel ? 1024 : 512,
      intelSnapshot: carriesIntelSnapshot(id, route),
      googleAdsApi: route.secrets?.includes('googleAds') === true,
    });
    if (route.managesApiKeys) this.bindApiKeyManagement(fn, usagePlans);
    this.bindNeeds(fn, route);
    return fn;
  }

  private consumerFunction(id: QueueConsumerId, consumer: QueueConsumerDef): ClicksieveFunction {
    const fn = this.newFunction(pascal(id), {
      entry: consumer.handler,
      description: consumer.summary,
      timeout: Duration.seconds(Math.floor(consumer.visibilityTimeoutSeconds / VISIBILITY_TO_TIMEOUT_RATIO)),
      memorySize: consumer.intel || consumer.bucket ? 1024 : 512,
      intelSnapshot: carriesIntelSnapshot(id, consumer),
    });
    this.bindNeeds(fn, consumer);
    fn.fn.addEventSource(
      new SqsEventSource(this.data.queues[consumer.queue], {
        batchSize: consumer.batchSize,
        reportBatchItemFailures: true,
        // SQS allows batches above 10 only with a batching window.
        maxBatchingWindow: consumer.batchSize > 10 ? Duration.seconds(1) : undefined,
      }),
    );
    return fn;
  }

  private scheduledFunction(id: ScheduleId, schedule: ScheduleDef): ClicksieveFunction {
    const fn = this.newFunction(pascal(id), {
      entry: schedule.handler,
      description: schedule.summary,
      timeout: Duration.seconds(schedule.timeoutSeconds ?? DEFAULT_SCHEDULE_TIMEOUT_SECONDS),
      memorySize: 1024,
      intelSnapshot: carriesIntelSnapshot(id, schedule),
      googleAdsApi: schedule.secrets?.includes('googleAds') === true,
    });
    this.bindNeeds(fn, schedule);
    new Rule(this, `${pascal(id)}Schedule`, {
      description: schedule.summary,
      schedule: Schedule.expression(schedule.expression),
      targets: [new LambdaFunction(fn.fn, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
    });
    return fn;
  }

  /** Grants exactly what the route table says the function needs (see `functionNeeds`), and its environment. */
  private bindNeeds(fn: ClicksieveFunction, def: RouteDef | QueueConsumerDef | ScheduleDef): void {
    const needs = functionNeeds(def);
    if (needs.table) {
      fn.bindTable(this.data.table, needs.table);
      // The velocity counters are the table's spill-over (shared/store/table.ts COUNTERS_TABLE): the same access.
      fn.bindTable(this.data.counters, needs.table, ENV.countersTableName);
    }
    for (const queue of needs.publishes) fn.bindQueue(this.data.queues[queue], ENV.queueUrl[queue]);
    if (needs.bucket) fn.bindBucket(this.data.bucket, needs.bucket.access, needs.bucket.prefix);
    if (needs.intel) fn.bindBucket(this.data.bucket, 'read', INTEL_PREFIX);
    for (const name of needs.secrets) fn.bindSecret(this.secret(name), SECRET_ENV[name]);
  }

  private secret(name: SecretName): ISecret {
    const secrets: Record<SecretName, ISecret> = {
      adminKey: this.data.adminKey,
      tokenSigningKey: this.data.tokenSigningKey,
      googleAds: this.data.googleAdsCredentials,
    };
    return secrets[name];
  }

  /**
   * Create, change and delete per-property API keys and attach them to this API's usage plans, nothing
   * else; USAGE_PLAN_IDS maps plan id to usage plan id.
   */
  private bindApiKeyManagement(fn: ClicksieveFunction, usagePlans: readonly UsagePlan[]): void {
    const { partition, region } = Stack.of(this);
    const arn = (path: string) => `arn:${partition}:apigateway:${region}::${path}`;
    const rendered = (path: string) => `Resource::arn:<AWS::Partition>:apigateway:<AWS::Region>::${path}`;
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['apigateway:GET', 'apigateway:POST', 'apigateway:PATCH', 'apigateway:DELETE'],
        resources: [
          arn('/apikeys'),
          arn('/apikeys/*'),
          ...usagePlans.flatMap((plan) => [
            arn(`/usageplans/${plan.usagePlanId}/keys`),
            arn(`/usageplans/${plan.usagePlanId}/keys/*`),
          ]),
        ],
      }),
    );
    fn.fn.addEnvironment(
      ENV.usagePlanIds,
      Stack.of(this).toJsonString(Object.fromEntries(plans.map((plan, i) => [plan.id, usagePlans[i]!.usagePlanId]))),
    );
    fn.acknowledgeWildcard(
      rendered('/apikeys/*'),
      'API keys are created per property at run time; their ids are not known at deploy time.',
    );
    for (const plan of usagePlans) {
      fn.acknowledgeWildcard(
        rendered(`/usageplans/<${Stack.of(plan).getLogicalId(plan.node.defaultChild as CfnElement)}>/keys/*`),
        'Keys of this API’s own usage plan, attached per property at run time.',
      );
    }
  }

  /**
   * The usage plan of the authorizer's deferred answers (402, 403, a failed read): without a usage key
   * such a request would end in API Gateway's 401 instead of the function's answer. A throttle only —
   * the function meters the property's own plan. Its key is not a credential (API key source: authorizer).
   */
  private addDeferredUsagePlan(): void {
    const plan = this.api.addUsagePlan('PlanDeferred', {
      name: 'clicksieve-deferred',
      description: 'Requests the authorizer deferred to the function (which answers 402/403/5xx itself)',
      throttle: { rateLimit: DEFERRED_USAGE_THROTTLE.ratePerSecond, burstLimit: DEFERRED_USAGE_THROTTLE.burst },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    plan.addApiKey(
      this.api.addApiKey('DeferredUsageKey', { apiKeyName: 'clicksieve-deferred', value: DEFERRED_USAGE_KEY }),
    );
  }

  private acknowledgeApiFindings(): void {
    Validations.of(this.api).acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Requests are validated in each function with the zod schemas of the route table (400 naming the fields).',
      },
      {
        id: 'AwsSolutions-APIG3',
        reason: 'WAF is left to the operator (cost); per-plan throttles, per-address limits and 32 KiB bodies apply.',
      },
      {
        id: 'AwsSolutions-APIG4',
        reason:
          'Only public routes (health, plans, openapi) and CORS preflights are open, as the contract requires; ' +
          'every other method runs the Lambda authorizer.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: 'The AWS-maintained policy API Gateway needs for its execution logs; it grants log writes only.',
      },
      {
        id: 'AwsSolutions-COG4',
        reason:
          'Callers are servers and landing pages holding property keys, not Cognito users: a Lambda authorizer checks them.',
      },
    );
  }
}

function browserMethodsAt(path: string): string[] {
  const methods = Object.values(routes as Record<string, RouteDef>)
    .filter((route) => route.path === path && route.browser)
    .map((route) => route.method);
  return [...methods, 'OPTIONS'];
}
