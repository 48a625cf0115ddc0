import type { ZodType } from 'zod';

/**
 * The one route table. The CDK stack (infra/), the local gateway (infra/local/), the OpenAPI document
 * and every API handler read it, so AWS, the laptop and the docs cannot disagree.
 */

/**
 * Who may call: `admin` (deployment key), `public` pk_, `secret` sk_, `webhook` whsec_, `readonly` rk_ (the
 * dashboard's read-only key: read routes only). Empty = no auth.
 */
export type CredentialKind = 'admin' | 'public' | 'secret' | 'webhook' | 'readonly';

/** Secrets a function may read; the stack grants each by reference (ARN in the environment), never by value. */
export type SecretName = 'adminKey' | 'tokenSigningKey' | 'googleAds';

/**
 * What a function needs besides its trigger. The stack grants exactly this — IAM and environment —
 * and nothing else, and its tests derive each function's grants from here (`functionNeeds`), so a
 * function cannot lack a secret on AWS that `npm start` happens to give every function.
 */
export interface FunctionNeeds {
  /** Secrets it reads (e.g. `tokenSigningKey`: it issues or verifies click tokens). */
  readonly secrets?: readonly SecretName[];
  /** Table access beyond what its kind implies (see `functionNeeds`). */
  readonly table?: 'read' | 'readWrite';
  /** Queues it publishes to (grant + env var). */
  readonly publishes?: readonly QueueName[];
  /** Needs the exports/rollups bucket, under `bucketPrefix`. */
  readonly bucket?: 'read' | 'readWrite';
  /** The part of the bucket `bucket` applies to, e.g. `exports/`; the prefix is the grant's boundary. */
  readonly bucketPrefix?: string;
  /** Scores traffic: reads the newest IP-intelligence snapshot from the bucket's `intel/` prefix. */
  readonly intel?: boolean;
}

export interface RouteDef extends FunctionNeeds {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway path syntax: `{name}` is a path parameter. */
  readonly path: string;
  readonly auth: readonly CredentialKind[];
  /** Lambda entry, relative to the repository root; exports `handler`. */
  readonly handler: string;
  readonly summary: string;
  readonly tag: 'public' | 'properties' | 'ingestion' | 'decisions' | 'reporting';
  readonly body?: ZodType;
  readonly query?: ZodType;
  readonly params?: ZodType;
  /** Success status and response schema (the error body is implied for every route). */
  readonly success: {
    readonly status: 200 | 201 | 202 | 204;
    readonly schema?: ZodType;
    /** A body that is not JSON (the SDK script): its media type. */
    readonly contentType?: string;
  };
  /** Called from landing pages: CORS for any origin, and the public key may come as body `tracking_key`. */
  readonly browser?: boolean;
  /** The secret may also come as `?token=` (ClickPatrol style). */
  readonly queryToken?: boolean;
  /** Accepts `text/plain` too (navigator.sendBeacon sends JSON that way). */
  readonly textPlainBody?: boolean;
  /** Honours an `Idempotency-Key` header: retries carrying the same key are recorded once. */
  readonly idempotencyKey?: boolean;
  /** Error statuses beyond those implied by what the route does (shared/openapi.ts errorStatuses). */
  readonly errors?: readonly (409 | 502)[];
  /** Calls the API Gateway management API (API keys, usage plans). */
  readonly managesApiKeys?: boolean;
}

export type QueueName = 'beacons' | 'conversions' | 'exports' | 'counts';

/** Request headers a landing page may send to `browser` routes (CORS), on AWS and locally alike. */
export const browserRequestHeaders = [
  'content-type',
  'x-api-key',
  'x-app-key',
  'x-app-secret',
  'authorization',
  'idempotency-key',
] as const;

export interface QueueConsumerDef extends FunctionNeeds {
  readonly queue: QueueName;
  readonly handler: string;
  readonly summary: string;
  readonly batchSize: number;
  /** Deliveries before a message is moved to the queue's DLQ. */
  readonly maxReceiveCount: number;
  readonly visibilityTimeoutSeconds: number;
}

export interface ScheduleDef extends FunctionNeeds {
  readonly handler: string;
  readonly summary: string;
  /** EventBridge schedule expression on AWS. */
  readonly expression: string;
  /** How often the local stack runs it (faster than AWS so a laptop sees results). */
  readonly localEverySeconds: number;
  readonly timeoutSeconds?: number;
}

/**
 * The schema modules, required on first use: a function builds only the schemas of its own routes (its handler
 * reads them when it is created, shared/http/apiHandler.ts), not every route's — zod builds a schema when its
 * module runs, and all of them took ~30 ms of every cold start. The OpenAPI document reads them all.
 */
const dashboard = () => require('./schemas/dashboard') as typeof import('./schemas/dashboard');
const decisions = () => require('./schemas/decisions') as typeof import('./schemas/decisions');
const exclusions = () => require('./schemas/exclusions') as typeof import('./schemas/exclusions');
const ingestion = () => require('./schemas/ingestion') as typeof import('./schemas/ingestion');
const properties = () => require('./schemas/properties') as typeof import('./schemas/properties');
const pub = () => require('./schemas/public') as typeof import('./schemas/public');
const reporting = () => require('./schemas/reporting') as typeof import('./schemas/reporting');

const ingest: CredentialKind[] = ['public', 'secret'];
const secret: CredentialKind[] = ['secret'];
/** Read routes: the secret key, or the dashboard's read-only key. */
const read: CredentialKind[] = ['secret', 'readonly'];

export const routes = {
  health: {
    method: 'GET',
    path: '/v1/health',
    auth: [],
    handler: 'functions/api/health.ts',
    summary: 'Liveness and version',
    tag: 'public',
    success: {
      status: 200,
      get schema() {
        return pub().Health;
      },
    },
  },
  plans: {
    method: 'GET',
    path: '/v1/plans',
    auth: [],
    handler: 'functions/api/plans.ts',
    summary: 'Public plans and branding',
    tag: 'public',
    success: {
      status: 200,
      get schema() {
        return pub().PlansResponse;
      },
    },
  },
  openapi: {
    method: 'GET',
    path: '/v1/openapi.json',
    auth: [],
    handler: 'functions/api/openapi.ts',
    summary: 'This OpenAPI 3.1 document',
    tag: 'public',
    success: {
      status: 200,
      get schema() {
        return pub().OpenApiDocument;
      },
    },
  },
  createProperty: {
    method: 'POST',
    path: '/v1/properties',
    auth: ['admin'],
    handler: 'functions/api/create-property.ts',
    summary: 'Create a property and its credentials (shown once)',
    tag: 'properties',
    get body() {
      return properties().CreatePropertyBody;
    },
    success: {
      status: 201,
      get schema() {
        return properties().PropertyCredentials;
      },
    },
    managesApiKeys: true,
  },
  rotateKeys: {
    method: 'POST',
    path: '/v1/properties/{id}/rotate-keys',
    auth: ['admin', 'secret'],
    handler: 'functions/api/rotate-keys.ts',
    summary: 'Replace the public key, the secret key, the webhook secret or both secrets; old values stop at once',
    tag: 'properties',
    get params() {
      return properties().PropertyIdPath;
    },
    get body() {
      return properties().RotateKeysBody;
    },
    success: {
      status: 200,
      get schema() {
        return properties().RotatedKeys;
      },
    },
  },
  getConfig: {
    method: 'GET',
    path: '/v1/properties/{id}/config',
    auth: read,
    handler: 'functions/api/get-config.ts',
    summary: 'Effective configuration: thresholds, monitor-only, allowlist, rule weights, ad account',
    tag: 'properties',
    get params() {
      return properties().PropertyIdPath;
    },
    success: {
      status: 200,
      get schema() {
        return properties().PropertyConfig;
      },
    },
  },
  putConfig: {
    method: 'PUT',
    path: '/v1/properties/{id}/config',
    auth: ['admin', 'secret'],
    handler: 'functions/api/put-config.ts',
    summary: 'Change configuration (fields given replace the current ones); plan and ad-account link: admin only',
    tag: 'properties',
    get params() {
      return properties().PropertyIdPath;
    },
    get body() {
      return properties().PropertyConfig;
    },
    success: {
      status: 200,
      get schema() {
        return properties().PropertyConfig;
      },
    },
    managesApiKeys: true,
  },
  events: {
    method: 'POST',
    path: '/v1/events',
    auth: ingest,
    handler: 'functions/api/events.ts',
    summary: 'Record a visitor event (page view, click, conversion)',
    tag: 'ingestion',
    get body() {
      return ingestion().EventBody;
    },
    success: {
      status: 200,
      get schema() {
        return ingestion().EventAccepted;
      },
    },
    browser: true,
    idempotencyKey: true,
    publishes: ['conversions', 'counts'],
    intel: true,
    secrets: ['tokenSigningKey'],
  },
  click: {
    method: 'POST',
    path: '/v1/click',
    auth: ingest,
    handler: 'functions/api/click.ts',
    summary: 'Score a paid click synchronously',
    tag: 'ingestion',
    get body() {
      return ingestion().ClickBody;
    },
    success: {
      status: 200,
      get schema() {
        return ingestion().ClickVerdict;
      },
    },
    browser: true,
    idempotencyKey: true,
    publishes: ['counts'],
    intel: true,
    secrets: ['tokenSigningKey'],
  },
  beacon: {
    method: 'POST',
    path: '/v1/click/beacon',
    auth: ingest,
    handler: 'functions/api/beacon.ts',
    summary: 'Behaviour measured on the landing page; re-scored asynchronously',
    tag: 'ingestion',
    get body() {
      return ingestion().BeaconBody;
    },
    success: { status: 204 },
    browser: true,
    textPlainBody: true,
    publishes: ['beacons'],
  },
  conversion: {
    method: 'POST',
    path: '/v1/webhook/conversion',
    auth: ['webhook'],
    handler: 'functions/api/conversion.ts',
    summary: 'Record an order or lead against its click',
    tag: 'ingestion',
    get body() {
      return ingestion().ConversionBody;
    },
    success: {
      status: 200,
      get schema() {
        return ingestion().ConversionAccepted;
      },
    },
    publishes: ['conversions'],
    // Finds the click by `click_token`: verifying it needs the signing key (issue 8: it was missing on AWS).
    secrets: ['tokenSigningKey'],
  },
  clickTokens: {
    method: 'POST',
    path: '/v1/click-tokens',
    auth: secret,
    handler: 'functions/api/click-tokens.ts',
    summary: 'Issue a signed click token for a traffic provider',
    tag: 'ingestion',
    get body() {
      return ingestion().ClickTokenBody;
    },
    success: {
      status: 201,
      get schema() {
        return ingestion().ClickTokenIssued;
      },
    },
    secrets: ['tokenSigningKey'],
  },
  decision: {
    method: 'GET',
    path: '/v1/decision',
    auth: secret,
    handler: 'functions/api/decision.ts',
    summary: "A visitor's current score, label, action and reasons",
    tag: 'decisions',
    get query() {
      return decisions().DecisionQuery;
    },
    success: {
      status: 200,
      get schema() {
        return decisions().Decision;
      },
    },
  },
  ipCheck: {
    method: 'GET',
    path: '/v1/ip-check',
    auth: secret,
    handler: 'functions/api/ip-check.ts',
    summary: 'Reputation of one IP address (spends the monthly allowance)',
    tag: 'decisions',
    get query() {
      return decisions().IpCheckQuery;
    },
    success: {
      status: 200,
      get schema() {
        return decisions().IpCheck;
      },
    },
    queryToken: true,
    intel: true,
  },
  botVerdict: {
    method: 'GET',
    path: '/v1/bot/verdict',
    auth: secret,
    handler: 'functions/api/bot-verdict.ts',
    summary: 'Verdict on the visit that carried a click token',
    tag: 'decisions',
    get query() {
      return decisions().BotVerdictQuery;
    },
    success: {
      status: 200,
      get schema() {
        return decisions().BotVerdict;
      },
    },
    secrets: ['tokenSigningKey'],
  },
  propertyStats: {
    method: 'GET',
    path: '/v1/property/{id}/stats',
    auth: read,
    handler: 'functions/api/property-stats.ts',
    summary: 'Totals, bands and top rules over a range, read from daily rollups',
    tag: 'reporting',
    get params() {
      return properties().PropertyIdPath;
    },
    get query() {
      return reporting().StatsQuery;
    },
    success: {
      status: 200,
      get schema() {
        return reporting().PropertyStats;
      },
    },
  },
  blocklist: {
    method: 'GET',
    path: '/v1/property/{id}/blocklist',
    auth: read,
    handler: 'functions/api/blocklist.ts',
    summary: 'IPs at or above the block threshold seen within `days` (JSON or CSV)',
    tag: 'reporting',
    get params() {
      return properties().PropertyIdPath;
    },
    get query() {
      return reporting().BlocklistQuery;
    },
    success: {
      status: 200,
      get schema() {
        return reporting().Blocklist;
      },
    },
  },
  botStats: {
    method: 'GET',
    path: '/v1/bot/stats',
    auth: read,
    handler: 'functions/api/bot-stats.ts',
    summary: 'Bot totals by action and level over a date range',
    tag: 'reporting',
    get query() {
      return reporting().DateRangeQuery;
    },
    success: {
      status: 200,
      get schema() {
        return reporting().BotStats;
      },
    },
  },
  botExport: {
    method: 'GET',
    path: '/v1/bot/export',
    auth: read,
    handler: 'functions/api/bot-export.ts',
    summary: 'Per-click CSV for settlement, as a presigned download (202 + poll for large ranges)',
    tag: 'reporting',
    get query() {
      return reporting().ExportQuery;
    },
    success: {
      status: 200,
      get schema() {
        return reporting().ExportStatus;
      },
    },
    bucket: 'readWrite',
    bucketPrefix: 'exports/',
    publishes: ['exports'],
  },
  botExportStatus: {
    method: 'GET',
    path: '/v1/bot/export/{export_id}',
    auth: read,
    handler: 'functions/api/bot-export-status.ts',
    summary: 'Poll an export job',
    tag: 'reporting',
    get params() {
      return reporting().ExportIdPath;
    },
    success: {
      status: 200,
      get schema() {
        return reporting().ExportStatus;
      },
    },
    bucket: 'read',
    bucketPrefix: 'exports/',
  },
  sdkScript: {
    method: 'GET',
    path: '/v1/sdk/{file}',
    auth: [],
    handler: 'functions/api/sdk-script.ts',
    summary:
      'The landing-page snippet, minified: `clicksieve.js` (current version, cached 5 minutes) or ' +
      '`clicksieve-<version>.js` (immutable, for an `integrity` attribute)',
    tag: 'public',
    get params() {
      return pub().SdkScriptPath;
    },
    success: { status: 200, contentType: 'text/javascript; charset=utf-8' },
    browser: true,
  },
  exclusionsPlan: {
    method: 'GET',
    path: '/v1/property/{id}/exclusions/plan',
    auth: read,
    handler: 'functions/api/exclusions-plan.ts',
    summary: 'What the next Google Ads push would add and remove, and why (changes nothing)',
    tag: 'reporting',
    get params() {
      return properties().PropertyIdPath;
    },
    success: {
      status: 200,
      get schema() {
        return exclusions().ExclusionPlan;
      },
    },
    secrets: ['googleAds'],
  },
  exclusions: {
    method: 'GET',
    path: '/v1/property/{id}/exclusions',
    auth: read,
    handler: 'functions/api/exclusions.ts',
    summary: 'IP exclusions in the ad account now (by clicksieve and by hand) and the change log',
    tag: 'reporting',
    get params() {
      return properties().PropertyIdPath;
    },
    get query() {
      return exclusions().ExclusionsQuery;
    },
    success: {
      status: 200,
      get schema() {
        return exclusions().Exclusions;
      },
    },
    secrets: ['googleAds'],
  },
  deleteExclusions: {
    method: 'DELETE',
    path: '/v1/property/{id}/exclusions',
    auth: secret,
    handler: 'functions/api/exclusions-delete.ts',
    summary: 'Take back one address/range (`value`) or one run (`runId`): removed now, never pushed again',
    tag: 'reporting',
    get params() {
      return properties().PropertyIdPath;
    },
    get query() {
      return exclusions().DeleteExclusionQuery;
    },
    success: {
      status: 200,
      get schema() {
        return exclusions().ExclusionsTakenBack;
      },
    },
    secrets: ['googleAds'],
  },
  allowExclusion: {
    method: 'DELETE',
    path: '/v1/property/{id}/exclusions/taken-back',
    auth: secret,
    handler: 'functions/api/exclusions-allow.ts',
    summary: 'Let a taken-back address/range be pushed again',
    tag: 'reporting',
    get params() {
      return properties().PropertyIdPath;
    },
    get query() {
      return exclusions().AllowExclusionQuery;
    },
    success: { status: 204 },
  },
  applyExclusions: {
    method: 'POST',
    path: '/v1/property/{id}/exclusions/apply',
    auth: secret,
    handler: 'functions/api/exclusions-apply.ts',
    summary: 'Run the Google Ads push for this property now (monitor-only and dry-run still change nothing)',
    tag: 'reporting',
    get params() {
      return properties().PropertyIdPath;
    },
    success: {
      status: 200,
      get schema() {
        return exclusions().ExclusionRunReport;
      },
    },
    errors: [409, 502],
    secrets: ['googleAds'],
  },
  microsoftExclusions: {
    method: 'GET',
    path: '/v1/property/{id}/exclusions/microsoft.csv',
    auth: read,
    handler: 'functions/api/exclusions-microsoft.ts',
    summary:
      'The same IP selection as a CSV for Microsoft Advertising’s campaign IP exclusions (IPv4, a /24 as `a.b.c.*`, ' +
      'at most 100 per campaign; its API has no IP exclusions)',
    tag: 'reporting',
    get params() {
      return properties().PropertyIdPath;
    },
    get query() {
      return exclusions().MicrosoftExclusionsQuery;
    },
    success: { status: 200, contentType: 'text/csv; charset=utf-8' },
  },
  session: {
    method: 'GET',
    path: '/v1/session',
    auth: read,
    handler: 'functions/api/session.ts',
    summary: 'The property and kind of the presented key (how the dashboard signs in)',
    tag: 'reporting',
    success: {
      status: 200,
      get schema() {
        return dashboard().Session;
      },
    },
  },
  timeseries: {
    method: 'GET',
    path: '/v1/property/{id}/timeseries',
    auth: read,
    handler: 'functions/api/timeseries.ts',
    summary: 'Clicks, invalid share and estimated wasted spend per local day, read from daily rollups',
    tag: 'reporting',
    get params() {
      return properties().PropertyIdPath;
    },
    get query() {
      return dashboard().TimeseriesQuery;
    },
    success: {
      status: 200,
      get schema() {
        return dashboard().Timeseries;
      },
    },
  },
  clickSearch: {
    method: 'POST',
    path: '/v1/property/{id}/clicks/search',
    auth: read,
    handler: 'functions/api/click-search.ts',
    summary:
      'Find clicks by click id, gclid, visitor or address and explain each verdict (a read: POST keeps visitor data out of URLs)',
    tag: 'reporting',
    get params() {
      return properties().PropertyIdPath;
    },
    get body() {
      return dashboard().ClickSearchBody;
    },
    success: {
      status: 200,
      get schema() {
        return dashboard().ClickSearchResult;
      },
    },
  },
  trafficSources: {
    method: 'GET',
    path: '/v1/property/{id}/sources',
    auth: read,
    handler: 'functions/api/traffic-sources.ts',
    summary: 'Top traffic sources (campaign, placement, network) with their conversion rates',
    tag: 'reporting',
    get params() {
      return properties().PropertyIdPath;
    },
    success: {
      status: 200,
      get schema() {
        return dashboard().TrafficSources;
      },
    },
  },
  listProperties: {
    method: 'GET',
    path: '/v1/properties',
    auth: ['admin'],
    handler: 'functions/api/list-properties.ts',
    summary: 'Every property of this deployment, disabled ones too, oldest first (the operator’s view; no keys)',
    tag: 'properties',
    success: {
      status: 200,
      get schema() {
        return properties().PropertyList;
      },
    },
  },
  calibration: {
    method: 'GET',
    path: '/v1/property/{id}/calibration',
    auth: read,
    handler: 'functions/api/calibration.ts',
    summary:
      'Per-band conversion rates: clicks and trusted conversions by at-click band, score decile and rule, read from daily rollups',
    tag: 'reporting',
    get params() {
      return properties().PropertyIdPath;
    },
    get query() {
      return dashboard().CalibrationQuery;
    },
    success: {
      status: 200,
      get schema() {
        return dashboard().Calibration;
      },
    },
  },
} as const satisfies Record<string, RouteDef>;

export type RouteId = keyof typeof routes;

export const queueConsumers = {
  beaconScorer: {
    queue: 'beacons',
    handler: 'functions/queue/beacon-scorer.ts',
    summary: 'Re-scores a click and its visitor from landing-page behaviour',
    batchSize: 25,
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: 60,
    intel: true,
    secrets: ['tokenSigningKey'],
    publishes: ['counts'],
  },
  conversionScorer: {
    queue: 'conversions',
    handler: 'functions/queue/conversion-scorer.ts',
    summary: 'Records conversions: visitor trust, traffic-source quality',
    batchSize: 25,
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: 60,
    intel: true,
    secrets: ['tokenSigningKey'],
    publishes: ['counts'],
  },
  exportWriter: {
    queue: 'exports',
    handler: 'functions/queue/export-writer.ts',
    summary: 'Streams a per-click CSV export to S3',
    batchSize: 1,
    maxReceiveCount: 3,
    visibilityTimeoutSeconds: 900,
    bucket: 'readWrite',
    bucketPrefix: 'exports/',
  },
  clickCounter: {
    queue: 'counts',
    handler: 'functions/queue/click-counter.ts',
    summary: 'Counts stored clicks and their re-scores into daily rollups and blocklist inputs, in batches, once each',
    batchSize: 100,
    maxReceiveCount: 10,
    visibilityTimeoutSeconds: 30,
  },
} as const satisfies Record<string, QueueConsumerDef>;

export const schedules = {
  statsRollup: {
    handler: 'functions/scheduled/stats-rollup.ts',
    summary: "Checks yesterday's and today's rollups against a recount of the clicks; writes a summary per day to S3",
    expression: 'rate(5 minutes)',
    localEverySeconds: 30,
    bucket: 'readWrite',
    bucketPrefix: 'rollups/',
    table: 'readWrite',
  },
  dailyExport: {
    handler: 'functions/scheduled/daily-export.ts',
    summary: "Writes each property's settlement CSV of the day before to S3",
    expression: 'cron(15 0 * * ? *)',
    localEverySeconds: 3600,
    bucket: 'readWrite',
    bucketPrefix: 'exports/',
    table: 'readWrite',
    timeoutSeconds: 900,
  },
  blocklistPush: {
    handler: 'functions/scheduled/blocklist-push.ts',
    summary: 'Pushes each linked property’s blocklist into Google Ads IP exclusions (≤ 500 per campaign)',
    expression: 'rate(1 hour)',
    localEverySeconds: 600,
    table: 'readWrite',
    secrets: ['googleAds'],
    timeoutSeconds: 300,
  },
  intelRefresh: {
    handler: 'functions/scheduled/intel-refresh.ts',
    summary: 'Refreshes IP-intelligence lists from their upstream URLs into S3',
    expression: 'rate(1 day)',
    localEverySeconds: 86_400,
    bucket: 'readWrite',
    bucketPrefix: 'intel/',
    timeoutSeconds: 300,
  },
} as const satisfies Record<string, ScheduleDef>;

export type ScheduleId = keyof typeof schedules;
export type QueueConsumerId = keyof typeof queueConsumers;

export const queueNames: readonly QueueName[] = ['beacons', 'conversions', 'exports', 'counts'];

/** Everything a function gets on AWS, from its entry in this file. */
export interface ResolvedNeeds {
  readonly secrets: readonly SecretName[];
  readonly table: 'read' | 'readWrite' | undefined;
  readonly publishes: readonly QueueName[];
  readonly bucket: { readonly access: 'read' | 'readWrite'; readonly prefix: string } | undefined;
  readonly intel: boolean;
}

/**
 * The one reading of an entry's needs, used by the stack and its tests: authenticated routes write the
 * table (every request is metered there) and routes taking the admin key read that secret; consumers
 * write the table; schedules get what they declare. A `bucket` without `bucketPrefix` is refused, so
 * no function ever gets the whole bucket.
 */
export function functionNeeds(def: RouteDef | QueueConsumerDef | ScheduleDef): ResolvedNeeds {
  const isRoute = 'auth' in def;
  const secrets = new Set<SecretName>(def.secrets ?? []);
  if (isRoute && def.auth.includes('admin')) secrets.add('adminKey');
  const implied = isRoute ? (def.auth.length > 0 ? 'readWrite' : undefined) : 'queue' in def ? 'readWrite' : undefined;
  if (def.bucket && !def.bucketPrefix) throw new Error(`${def.handler} declares bucket without bucketPrefix`);
  return {
    secrets: [...secrets].sort(),
    table: def.table ?? implied,
    publishes: def.publishes ?? [],
    bucket: def.bucket && def.bucketPrefix ? { access: def.bucket, prefix: def.bucketPrefix } : undefined,
    intel: def.intel === true,
  };
}

/**
 * Methods that require a usage key (API Gateway usage plans). Browser routes may carry the public key
 * in the body, out of the authorizer's sight, and admin calls belong to no property: neither has a
 * usage key, so their limits are metered in the function alone. The stack and the local gateway both ask here.
 */
export function usesUsagePlan(route: RouteDef): boolean {
  return route.auth.length > 0 && route.browser !== true && !route.auth.includes('admin');
}
