import { createHash, createHmac } from 'node:crypto';

/** Credentials as Lambda hands them to a function (and as the local stack sets them). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** A request about to be signed. `headers` must carry `host`; the signer adds its own headers to a copy. */
export interface SignableRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Readonly<Record<string, string | readonly string[]>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

export interface SigningScope {
  readonly credentials: AwsCredentials;
  readonly region: string;
  readonly service: string;
  readonly date: Date;
  /** Adds `x-amz-content-sha256` (S3 requires it; the JSON services do not). */
  readonly contentSha256?: boolean;
  /** Normalizes and double-encodes the path, as every service but S3 expects. */
  readonly escapePath?: boolean;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Headers a proxy may rewrite: never signed (the same list as the SDK's signer). */
const UNSIGNABLE = new Set([
  'authorization',
  'cache-control',
  'connection',
  'expect',
  'from',
  'keep-alive',
  'max-forwards',
  'pragma',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);
const GENERATED = new Set(['authorization', 'x-amz-date', 'date']);
const SIGNING_KEY_CACHE_SIZE = 50;
/** A header value that needs the canonical trimming (most need none). */
const UNTRIMMED = /[\r\n\t]| {2}|^ | $/;

/** `YYYYMMDDTHHMMSSZ`, kept for the second it names (a busy client signs many requests a second). */
let lastDate: { second: number; text: string } | undefined;
function amzDate(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (lastDate?.second !== second) {
    const text = date
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z')
      .replace(/[-:]/g, '');
    lastDate = { second, text };
  }
  return lastDate.text;
}

interface CachedKey {
  readonly secret: string;
  readonly key: Buffer;
}
/** Signing keys by day/region/service/access key: one HMAC per request instead of five. */
const signingKeys = new Map<string, CachedKey>();

/**
 * AWS Signature Version 4 over headers (the `Authorization` header form), byte for byte what the SDK's
 * signer produces for the same request and time. Returns the request's headers with `x-amz-date`,
 * `x-amz-security-token` (temporary credentials), optionally `x-amz-content-sha256`, and `authorization`.
 */
export function signRequest(request: SignableRequest, scope: SigningScope): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of Object.keys(request.headers)) {
    if (!GENERATED.has(name.toLowerCase())) headers[name] = request.headers[name]!;
  }
  const longDate = amzDate(scope.date);
  const shortDate = longDate.slice(0, 8);
  headers['x-amz-date'] = longDate;
  const { credentials } = scope;
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  let payloadHash = payloadHashFrom(headers);
  if (payloadHash === undefined) {
    payloadHash = request.body === undefined ? EMPTY_SHA256 : sha256Hex(request.body);
    if (scope.contentSha256) headers['x-amz-content-sha256'] = payloadHash;
  }

  const canonical = canonicalHeaders(headers);
  const signedHeaders = canonical.names.join(';');
  const canonicalRequest = [
    request.method,
    scope.escapePath === false || request.path === '/' ? request.path : canonicalPath(request.path),
    request.query === undefined ? '' : canonicalQuery(request.query),
    canonical.lines,
    '',
    signedHeaders,
    payloadHash,
  ].join('\n');
  const credentialScope = `${shortDate}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${longDate}\n${credentialScope}\n${sha256Hex(canonicalRequest)}`;
  const signature = createHmac('sha256', signingKey(credentials, shortDate, scope.region, scope.service))
    .update(stringToSign, 'utf8')
    .digest('hex');
  headers.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

function payloadHashFrom(headers: Record<string, string>): string | undefined {
  for (const name of Object.keys(headers)) if (name.toLowerCase() === 'x-amz-content-sha256') return headers[name];
  return undefined;
}

const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

function signingKey(credentials: AwsCredentials, shortDate: string, region: string, service: string): Buffer {
  const cacheKey = `${shortDate}/${region}/${service}/${credentials.accessKeyId}`;
  const cached = signingKeys.get(cacheKey);
  if (cached && cached.secret === credentials.secretAccessKey) return cached.key;
  let key = createHmac('sha256', `AWS4${credentials.secretAccessKey}`).update(shortDate).digest();
  for (const part of [region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  signingKeys.delete(cacheKey);
  signingKeys.set(cacheKey, { secret: credentials.secretAccessKey, key });
  if (signingKeys.size > SIGNING_KEY_CACHE_SIZE) signingKeys.delete(signingKeys.keys().next().value!);
  return key;
}

function canonicalHeaders(headers: Record<string, string>): { names: string[]; lines: string } {
  const canonical = new Map<string, string>();
  for (const name of Object.keys(headers).sort()) {
    const lower = name.toLowerCase();
    if (UNSIGNABLE.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-')) continue;
    const value = headers[name]!;
    canonical.set(
      lower,
      UNTRIMMED.test(value)
        ? value
            .replace(/[\r\n]/g, ' ')
            .replace(/[ \t]+/g, ' ')
            .replace(/^ | $/g, '')
        : value,
    );
  }
  const names = [...canonical.keys()].sort();
  return { names, lines: names.map((name) => `${name}:${canonical.get(name)}`).join('\n') };
}

/** RFC 3986 encoding: encodeURIComponent plus the four characters it leaves alone. */
export const uriEscape = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return uriEscape(normalized).replace(/%2F/g, '/');
}

function canonicalQuery(query: Readonly<Record<string, string | readonly string[]>>): string {
  const pairs: Array<[string, string]> = [];
  for (const key of Object.keys(query)) {
    if (key.toLowerCase() === 'x-amz-signature') continue;
    const encodedKey = uriEscape(key);
    const value = query[key]!;
    const values = typeof value === 'string' ? [value] : value;
    if (values.length === 0) continue;
    pairs.push([
      encodedKey,
      values
        .map((v) => `${encodedKey}=${uriEscape(v)}`)
        .sort()
        .join('&'),
    ]);
  }
  return pairs
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, serialized]) => serialized)
    .join('&');
}
