import * as z from 'zod';
import { version as packageVersion } from '../package.json';
import { ENV, optionalEnv } from './config/env';
import { MAX_BODY_BYTES } from './http/bodyLimit';
import { MAX_IDEMPOTENCY_KEY } from './http/idempotencyKey';
import { definedOnly } from './optional';
import { type CredentialKind, type RouteDef, routes } from './routes';
import { ErrorBodySchema } from './schemas/common';

/**
 * The OpenAPI 3.1 document, generated from the route table and the very zod schemas the handlers
 * validate with (z.toJSONSchema, draft 2020-12 — the dialect OpenAPI 3.1 uses), so the docs cannot
 * drift from the code. Built once per container.
 */
type JsonSchema = Record<string, unknown>;
type Operation = Record<string, unknown>;

const COMPONENT = '#/components/schemas/';
const JSON_SCHEMA_OPTIONS = { target: 'draft-2020-12', unrepresentable: 'any' } as const;

/** Where the contract (../API.md) is silent, what clicksieve does. Also in each operation it concerns. */
const DECISIONS = [
  'Credentials are read from, first match wins: `x-admin-key`; `X-App-Key` + `X-App-Secret` (both of one property); ' +
    '`Authorization: Bearer` (webhook secret, or the secret key); `x-api-key` (public or secret key); `?token=` on routes ' +
    'that take it; body `tracking_key` (public key only) on browser routes.',
  'The secret key may do everything for its own property: it is accepted wherever the public key or the webhook secret is.',
  'A valid credential of a kind the route does not take answers 403 FORBIDDEN (e.g. the public key on a secret-key route).',
  'A property credential on another property’s `/properties/{id}` or `/property/{id}` route answers 403 FORBIDDEN, ' +
    'whether or not that property exists, so ids cannot be probed. The admin key gets 404 for an unknown property.',
  'A disabled property answers 402 PAYMENT_REQUIRED; so does a spent monthly allowance. Admin calls are not metered.',
  'Authentication happens before body validation: without a valid credential the answer is 401, never a schema error. ' +
    'Size (413), content type (415) and JSON syntax (400) are checked first.',
  'Public-key calls to browser routes are also limited per source address (50 per 5 seconds: 10 req/s with bursts of 50, ' +
    'kept in each function instance’s memory); the conversion webhook to 100 requests a minute per property. Both answer ' +
    '429 with Retry-After.',
  'Refuse before counting: the per-address limit and request validation come before the plan’s meter, and a request the ' +
    'meter refuses (429, 402) is not counted, so refused requests never spend the minute budget or the monthly allowance ' +
    '(their X-RateLimit-* report the last metered state). Errors found after metering (404, 409) were counted.',
  'The meter is batched per function instance: far from every limit an instance admits from its own count and writes it ' +
    'every 20 requests or 10 seconds; within max(80, a tenth of the limit, 20 × the instances it sees counting) of a limit ' +
    'it counts every request exactly, and a limit it has seen reached refuses from memory until its window ends. Worst ' +
    'case a limit is exceeded by 20 requests per function instance serving the property (one instance alone is exact); ' +
    'X-RateLimit-Remaining is that instance’s view.',
  'Rotation replaces the public key, the secret key, the webhook secret, the read-only key, or `all` (secret key, webhook ' +
    'secret and read-only key: the public key is in landing pages and is rotated only on its own). The admin key or the property’s secret key may rotate. ' +
    'The old value stops working within a second (a found key is looked up at most once a second per container).',
  'Time series: invalid clicks are those whose current verdict is FRAUD; estimated wasted spend = invalid clicks × the ' +
    'property setting `averageCpc`, rounded to cents, and null when it is not set (no made-up estimate).',
  'Calibration (per-band conversion rates): each click counts once in the band, score decile and rules of its at-click ' +
    'verdict (which never changes), and once more among the converted when a trusted conversion (webhook, or a ' +
    'secret-key conversion event) is recorded for it, both in the local day of the click, from the daily rollups. ' +
    'Conversions claimed with the public key are never counted. A rate is null when no click is in that row. Default ' +
    'range 90 days (calibration needs volume); the bands are the verdicts given under the thresholds of the time.',
  'Click search is a POST so addresses, visitor ids and gclids stay out of URLs and access logs. A gclid, visitor or ' +
    'address search reads the last `days` (1–30) of clicks, at most 20,000 (`truncated` beyond), and returns the 50 newest ' +
    'matches; another property’s click id is simply not found.',
  'The read-only key `rk_…` (created with the property, for the dashboard) is accepted only by read routes: config, stats, ' +
    'time series, calibration, blocklist, click search, sources, exports. Anything that changes state answers it 403 FORBIDDEN.',
  'PUT config: the fields given replace the stored ones (`botActions` level by level, `adAccount: null` unlinks); ' +
    'allowlist entries must be IP addresses or CIDR ranges (400 naming `allowlist.N`). It answers the effective config.',
  'The plan and the ad-account link (creating or removing it, `customerId`, `loginCustomerId`) are the operator’s: only ' +
    'the admin key may change them (403 naming the fields otherwise). The secret key may read them, switch the push on ' +
    'and off (`adAccount.enabled`) and choose `adAccount.campaignIds` by sending the link as it is.',
  'Trusted outcomes: a conversion through the webhook secret or sent as an event with the secret key lowers the ' +
    'converted click’s score and feeds traffic-source quality. A conversion event sent with the public key is stored ' +
    'and counted as an event (200) but never lowers a score, frees an address or moves any statistic, and it does not ' +
    'record a conversion on the click (the advertiser’s own conversion is still accepted).',
  'Idempotency keys (and the content-derived ids of events) are scoped to the property and the credential kind: a ' +
    'public-key caller can never read or pre-empt the record of a secret-key call with the same key.',
  'One validation for every caller: a malformed field (e.g. `ip` that is not an IPv4/IPv6 address) is 400 whichever ' +
    'key sends it; with the public key a valid but differing `ip` is only recorded as claimed.',
  'Secrets are stored only as SHA-256 hashes and compared in constant time; they are shown once, at creation or rotation.',
  `POST /v1/click and POST /v1/events take an \`Idempotency-Key\` header (1 to ${MAX_IDEMPOTENCY_KEY} characters): ` +
    'a retry with the same key is recorded once and gets the first answer (for a click, its at-click verdict), however late.',
  'Google Ads exclusions: clicksieve removes only exclusions it created (recorded with resource name, reason, time and run id); ' +
    'the advertiser’s own count against the caps (500 per account, 500 per campaign). The account level is filled first ' +
    '(it also reaches Performance Max), then every campaign that takes campaign IP exclusions. The plan route reads the ' +
    'account when it can and otherwise says `accountState: unknown`. DELETE takes an entry or a run back now and keeps ' +
    'it out of later plans until allowed again; it acts even in monitor-only/dry-run mode, being the advertiser’s own request.',
  'Ranking of IP exclusions: priority = score/100 × (1 + log10(clicks)) × 0.5^(days since the last bad click / 14), where ' +
    '`clicks` counts the address’s clicks since its first risky one; ties go to the higher score, then the more recent. ' +
    'A collapsed range sums its members’ clicks. Every plan entry carries `clicks` and its reason ends with the count.',
  'When the ad account cannot be used: POST …/exclusions/apply answers 409 CONFLICT (`details.reason` not_linked or ' +
    'link_disabled) when no link allows a push, and 502 AD_ACCOUNT_UNREACHABLE (`details.reason` credentials_not_configured, ' +
    'credentials_unreadable, authentication_failed or unreachable; nothing changed) when the linked account cannot be used. ' +
    'The plan and the list answer 200 with `accountState: unknown` and `accountProblem`; DELETE records the take-back and ' +
    'lists the removals still `pending` (the next push makes them). No cause, stack or credential is ever in the answer.',
];

const SECURITY_SCHEMES = {
  apiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'x-api-key',
    description: 'Public key `pk_…`, secret key `sk_…` or read-only key `rk_…`.',
  },
  appKey: { type: 'apiKey', in: 'header', name: 'X-App-Key', description: 'Public key `pk_…`, with X-App-Secret.' },
  appSecret: { type: 'apiKey', in: 'header', name: 'X-App-Secret', description: 'Secret key `sk_…`, with X-App-Key.' },
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'Webhook secret `whsec_…`, the secret key `sk_…` or the read-only key `rk_…`.',
  },
  adminKey: { type: 'apiKey', in: 'header', name: 'x-admin-key', description: 'The deployment’s admin key.' },
  queryToken: { type: 'apiKey', in: 'query', name: 'token', description: 'Secret key `sk_…` as `?token=`.' },
} as const;

type SchemeName = keyof typeof SECURITY_SCHEMES;

const IDEMPOTENCY_KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'Retries carrying the same key are recorded once and get the first answer.',
  schema: { type: 'string', minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY },
};

const ERROR_RESPONSES: Record<number, string> = {
  400: 'INVALID_REQUEST: malformed JSON or failed validation; `details.fields` names the fields',
  401: 'UNAUTHORIZED: missing or invalid credential',
  402: 'PAYMENT_REQUIRED: monthly allowance used up, or property disabled',
  403: 'FORBIDDEN: valid credential, but not for this route or this property',
  404: 'NOT_FOUND',
  409: 'CONFLICT: duplicate, or the resource is not in a state that allows it (`details.reason`)',
  413: `PAYLOAD_TOO_LARGE: body over ${MAX_BODY_BYTES} bytes`,
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED: see Retry-After',
  500: 'SERVER_ERROR: nothing about the cause is disclosed',
  502:
    'AD_ACCOUNT_UNREACHABLE: the linked ad account could not be used and nothing was changed; `details.reason` is ' +
    'credentials_not_configured, credentials_unreadable, authentication_failed or unreachable',
};

const RATE_HEADERS = {
  'X-RateLimit-Limit': { $ref: '#/components/headers/X-RateLimit-Limit' },
  'X-RateLimit-Remaining': { $ref: '#/components/headers/X-RateLimit-Remaining' },
  'X-RateLimit-Reset': { $ref: '#/components/headers/X-RateLimit-Reset' },
};

/** The error statuses a route can answer, from what it does. */
export function errorStatuses(route: RouteDef): number[] {
  const statuses = [400, 404, 500];
  if (route.body) statuses.push(413, 415);
  if (route.auth.length > 0) statuses.push(401, 402, 403, 429);
  if (route.method === 'POST') statuses.push(409);
  for (const status of route.errors ?? []) if (!statuses.includes(status)) statuses.push(status);
  return statuses.sort((a, b) => a - b);
}

function securityOf(route: RouteDef): Record<string, string[]>[] {
  const alternatives: SchemeName[][] = [];
  const add = (...names: SchemeName[]) => alternatives.push(names);
  const takes = (kind: CredentialKind) =>
    route.auth.includes(kind) || (kind === 'secret' && route.auth.some((k) => k === 'public' || k === 'webhook'));
  if (takes('admin')) add('adminKey');
  if (takes('public') || takes('secret') || takes('readonly')) add('apiKey');
  if (takes('secret')) add('appKey', 'appSecret');
  if (takes('webhook') || takes('secret') || takes('readonly')) add('bearer');
  if (route.queryToken && takes('secret')) add('queryToken');
  return alternatives.map((names) => Object.fromEntries(names.map((name) => [name, []])));
}

const idOf = (schema: z.ZodType): string | undefined => z.globalRegistry.get(schema)?.id;

/**
 * One schema as JSON Schema, inline. Nested schemas with an id come out in `$defs`; those are the
 * components of the same id, so references are pointed there and the `$defs` dropped.
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const converted = z.toJSONSchema(schema, { ...JSON_SCHEMA_OPTIONS, io }) as JsonSchema;
  const { $schema: _schema, $id: _id, $defs: _defs, ...rest } = converted;
  return JSON.parse(JSON.stringify(rest).replaceAll('"#/$defs/', `"${COMPONENT}`)) as JsonSchema;
}

/** Every schema with a meta id, both ways: responses use output shapes, request bodies input shapes. */
function components(): { output: Record<string, JsonSchema>; input: Record<string, JsonSchema> } {
  const both = { output: {}, input: {} } as { output: Record<string, JsonSchema>; input: Record<string, JsonSchema> };
  for (const io of ['output', 'input'] as const) {
    const { schemas } = z.toJSONSchema(z.globalRegistry, {
      ...JSON_SCHEMA_OPTIONS,
      io,
      uri: (id: string) => `${COMPONENT}${id}`,
    }) as unknown as { schemas: Record<string, JsonSchema> };
    for (const [id, schema] of Object.entries(schemas)) {
      const { $schema: _schema, $id: _id, ...rest } = schema;
      both[io][id] = rest;
    }
  }
  return both;
}

function parameters(schema: z.ZodType | undefined, where: 'query' | 'path', path: string): Record<string, unknown>[] {
  const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  const converted = schema ? jsonSchema(schema, 'input') : { properties: {}, required: [] };
  const properties = (converted.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((converted.required ?? []) as string[]);
  const declared = Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (required.has(name) && property.default === undefined),
    schema: property,
  }));
  if (where === 'query') return declared;
  // A path parameter without a schema is still a parameter (a plain string).
  const undeclared = names
    .filter((name) => !(name in properties))
    .map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
  return [...declared, ...undeclared];
}

function describe(route: RouteDef): string {
  const lines = [route.summary + '.'];
  if (route.auth.length === 0) lines.push('No authentication.');
  else
    lines.push(`Credentials: ${route.auth.join(', ')}${route.auth.includes('secret') ? '' : ' (the secret key too)'}.`);
  if (route.browser) {
    lines.push('Callable from browsers (CORS, any origin); the public key may come as body `tracking_key`.');
    lines.push('Public-key calls are limited to 50 per 5 seconds per source address (10 req/s, burst 50).');
  }
  if (route.auth.includes('webhook')) lines.push('Limited to 100 requests a minute per property.');
  if (/\/propert(?:y|ies)\/\{id\}/.test(route.path)) {
    lines.push('Another property’s id answers 403 FORBIDDEN whether or not it exists (admin: 404 when unknown).');
  }
  if (route.textPlainBody) lines.push('The body may be sent as `text/plain` (navigator.sendBeacon).');
  if (route.idempotencyKey) {
    lines.push(
      'With an `Idempotency-Key` header, retries carrying the same key are recorded once and get the first answer.',
    );
  }
  return lines.join(' ');
}

function operation(routeId: string, route: RouteDef, refs: { bodyRef: (schema: z.ZodType) => JsonSchema }): Operation {
  const successSchema = route.success.schema ? refOrInline(route.success.schema, 'output') : undefined;
  const queryParams = parameters(route.query, 'query', route.path);
  const csv = queryParams.some(
    (p) => p.name === 'format' && JSON.stringify((p.schema as JsonSchema).enum ?? []).includes('"csv"'),
  );
  const success: Record<string, unknown> = { description: route.summary };
  if (route.auth.length > 0) success.headers = RATE_HEADERS;
  if (successSchema) {
    const content: Record<string, unknown> = { 'application/json': { schema: successSchema } };
    if (csv) content['text/csv'] = { schema: { type: 'string' } };
    success.content = content;
  }
  if (route.success.contentType !== undefined) {
    success.content = { [route.success.contentType]: { schema: { type: 'string' } } };
  }
  const responses: Record<string, unknown> = { [String(route.success.status)]: success };
  for (const status of errorStatuses(route)) responses[String(status)] = { $ref: `#/components/responses/E${status}` };
  const mediaTypes = ['application/json', ...(route.textPlainBody ? ['text/plain'] : [])];
  return {
    operationId: routeId,
    summary: route.summary,
    description: describe(route),
    tags: [route.tag],
    parameters: [
      ...parameters(route.params, 'path', route.path),
      ...queryParams,
      ...(route.idempotencyKey ? [IDEMPOTENCY_KEY_PARAMETER] : []),
    ],
    ...definedOnly({
      requestBody: route.body && {
        required: true,
        content: Object.fromEntries(mediaTypes.map((type) => [type, { schema: refs.bodyRef(route.body!) }])),
      },
    }),
    security: route.auth.length === 0 ? [] : securityOf(route),
    responses,
  };
}

function refOrInline(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const id = idOf(schema);
  return id ? { $ref: `${COMPONENT}${id}` } : jsonSchema(schema, io);
}

export function buildOpenApiDocument(): Record<string, unknown> {
  // The route table requires its schema modules on first use (shared/routes.ts): register every one first.
  for (const route of Object.values(routes) as RouteDef[])
    void [route.body, route.query, route.params, route.success.schema];
  const { output, input } = components();
  const schemas: Record<string, JsonSchema> = { ...output };
  // A request body whose input shape differs (defaults make fields optional) gets its own component.
  const bodyRef = (schema: z.ZodType): JsonSchema => {
    const id = idOf(schema);
    if (!id) return jsonSchema(schema, 'input');
    if (JSON.stringify(input[id]) === JSON.stringify(output[id])) return { $ref: `${COMPONENT}${id}` };
    schemas[`${id}Input`] = input[id]!;
    return { $ref: `${COMPONENT}${id}Input` };
  };
  const paths: Record<string, Record<string, Operation>> = {};
  for (const [routeId, route] of Object.entries(routes) as [string, RouteDef][]) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation(routeId, route, { bodyRef });
  }
  const errorId = idOf(ErrorBodySchema) ?? 'Error';
  const errorResponses = Object.fromEntries(
    Object.entries(ERROR_RESPONSES).map(([status, description]) => [
      `E${status}`,
      {
        description,
        headers: status === '429' ? { 'Retry-After': { $ref: '#/components/headers/Retry-After' } } : undefined,
        content: { 'application/json': { schema: { $ref: `${COMPONENT}${errorId}` } } },
      },
    ]),
  );
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'clicksieve',
      version: optionalEnv(ENV.version) ?? packageVersion,
      description:
        'Open-source click-fraud detection, deployed into your own AWS account. Every error has the body ' +
        '`{error, code, details}`.\n\nDecisions where the contract is silent:\n\n' +
        DECISIONS.map((decision) => `- ${decision}`).join('\n'),
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/' }],
    tags: ['public', 'properties', 'ingestion', 'decisions', 'reporting'].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      responses: errorResponses,
      headers: {
        'X-RateLimit-Limit': { description: 'Requests allowed per minute by the plan', schema: { type: 'integer' } },
        'X-RateLimit-Remaining': { description: 'Requests left in this minute', schema: { type: 'integer' } },
        'X-RateLimit-Reset': { description: 'Epoch seconds when the minute resets', schema: { type: 'integer' } },
        'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
      },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}

let built: Record<string, unknown> | undefined;

/** The document, built on first use and kept for the container's life. */
export function openApiDocument(): Record<string, unknown> {
  built ??= buildOpenApiDocument();
  return built;
}
