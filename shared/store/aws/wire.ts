import { type AwsServiceError, AwsTransportError, type ResponseMetadata, retryKindOf } from './errors';
import { HttpOrigin, HttpSocketError } from './http';
import { type AwsCredentials, signRequest, uriEscape } from './sigv4';

/** The services this client speaks to, with the SDK's endpoint variable for each. */
const ENDPOINT_VARIABLES = {
  dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB',
  sqs: 'AWS_ENDPOINT_URL_SQS',
  s3: 'AWS_ENDPOINT_URL_S3',
  secretsmanager: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
} as const;
export type AwsService = keyof typeof ENDPOINT_VARIABLES;

export interface WireOptions {
  /** Base URL; default: AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, then the regional AWS endpoint. */
  readonly endpoint?: string;
  readonly region?: string;
  /** Default: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, read on the first call. */
  readonly credentials?: AwsCredentials;
  /** Per attempt; an attempt that outlives it fails with TimeoutError (and is retried). */
  readonly timeoutMs?: number;
  /** Attempts in all, the first included (the SDK's standard mode: 3). */
  readonly maxAttempts?: number;
}

export interface WireRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal?: AbortSignal;
  /** Host for this request when it is not the endpoint's (S3 virtual-hosted buckets). */
  readonly hostPrefix?: string;
}

export interface WireResponse {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

interface Settings {
  readonly region: string;
  readonly endpoint: URL;
  readonly credentials: AwsCredentials;
}

/** Maps a non-2xx answer to the service's typed error. */
export type ErrorReader = (response: WireResponse, metadata: ResponseMetadata) => AwsServiceError;

const DEFAULT_TIMEOUT_MS = 6_000;
const DEFAULT_MAX_ATTEMPTS = 3;
/** The SDK's standard retry strategy: full-jitter exponential backoff from these bases, capped at 20 s. */
const BASE_DELAY_MS = { transient: 100, throttling: 500 } as const;
const MAX_DELAY_MS = 20_000;
/** The SDK's retry quota: a client in a failing region stops retrying instead of multiplying the load. */
const RETRY_QUOTA = { initial: 500, cost: 5, timeoutCost: 10, refund: 1 } as const;

/** As the SDK's handler on Lambda: keep-alive sockets (idle ones do not hold the process open), 50 per host. */
const MAX_SOCKETS = 50;

/**
 * One AWS service endpoint over node:http(s): SigV4-signed requests on keep-alive sockets, a timeout per
 * attempt and the SDK's standard retries (throttling, 5xx, timeouts and socket errors; never a client error
 * such as a failed condition). Errors carry the service's code, message and status, never the request.
 */
export class AwsWire {
  private retryQuota: number = RETRY_QUOTA.initial;
  private resolved: Settings | undefined;
  /** Keep-alive sockets by host prefix ('' for the endpoint itself; S3 buckets have their own host). */
  private readonly origins = new Map<string, HttpOrigin>();

  constructor(
    readonly service: AwsService,
    private readonly options: WireOptions = {},
  ) {}

  /**
   * Endpoint, region and credentials, read from the environment on the first call and kept: a Lambda
   * container's environment (its role's credentials included) does not change while it lives, and
   * process.env is slow to read on every call.
   */
  private settings(): Settings {
    if (this.resolved) return this.resolved;
    const env = process.env;
    const region = this.options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region) throw new Error('AWS_REGION is not set');
    const endpoint =
      this.options.endpoint ??
      env[ENDPOINT_VARIABLES[this.service]] ??
      env.AWS_ENDPOINT_URL ??
      `https://${this.service}.${region}.amazonaws.com`;
    let credentials = this.options.credentials;
    if (!credentials) {
      const {
        AWS_ACCESS_KEY_ID: accessKeyId,
        AWS_SECRET_ACCESS_KEY: secretAccessKey,
        AWS_SESSION_TOKEN: sessionToken,
      } = env;
      if (!accessKeyId || !secretAccessKey) throw new Error('no AWS credentials in the environment');
      credentials = sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
    }
    this.resolved = { region, endpoint: new URL(endpoint), credentials };
    return this.resolved;
  }

  async call(request: WireRequest, readError: ErrorReader): Promise<WireResponse> {
    const maxAttempts = this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    let totalRetryDelay = 0;
    for (let attempt = 1; ; attempt++) {
      let failure: AwsServiceError | AwsTransportError;
      try {
        const response = await this.attempt(request);
        if (response.status < 300) {
          this.retryQuota = Math.min(RETRY_QUOTA.initial, this.retryQuota + RETRY_QUOTA.refund);
          return response;
        }
        failure = readError(response, {
          httpStatusCode: response.status,
          requestId: requestIdOf(response.headers),
          attempts: attempt,
          totalRetryDelay,
        });
      } catch (error) {
        if (!(error instanceof AwsTransportError)) throw error;
        failure = error;
        failure.$metadata = { attempts: attempt, totalRetryDelay };
      }
      const kind = retryKindOf(failure);
      const cost = failure.name === 'TimeoutError' ? RETRY_QUOTA.timeoutCost : RETRY_QUOTA.cost;
      if (kind === undefined || attempt >= maxAttempts || this.retryQuota < cost || request.signal?.aborted) {
        throw failure;
      }
      this.retryQuota -= cost;
      const delay = Math.floor(Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS[kind] * 2 ** (attempt - 1)));
      totalRetryDelay += delay;
      await sleep(delay, request.signal);
    }
  }

  /** Closes this client's sockets (a later call opens new ones). */
  destroy(): void {
    for (const origin of this.origins.values()) origin.destroy();
    this.origins.clear();
  }

  private attempt(request: WireRequest): Promise<WireResponse> {
    const { endpoint, region, credentials } = this.settings();
    const host = request.hostPrefix ? `${request.hostPrefix}.${endpoint.host}` : endpoint.host;
    const basePath = endpoint.pathname === '/' ? '' : endpoint.pathname.replace(/\/$/, '');
    const path = `${basePath}${request.path}`;
    const headers = signRequest(
      {
        method: request.method,
        path,
        query: request.query,
        headers: {
          ...request.headers,
          host,
          ...(request.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(request.body)) }),
        },
        body: request.body,
      },
      {
        credentials,
        region,
        service: this.service,
        date: new Date(),
        contentSha256: this.service === 's3',
        escapePath: this.service !== 's3',
      },
    );
    const search = request.query ? queryString(request.query) : '';
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const key = request.hostPrefix ?? '';
    let origin = this.origins.get(key);
    if (!origin) {
      origin = new HttpOrigin({
        host: request.hostPrefix ? `${request.hostPrefix}.${endpoint.hostname}` : endpoint.hostname,
        port: Number(endpoint.port) || (endpoint.protocol === 'https:' ? 443 : 80),
        tls: endpoint.protocol === 'https:',
        maxSockets: MAX_SOCKETS,
      });
      this.origins.set(key, origin);
    }
    const { signal } = request;
    if (signal?.aborted) return Promise.reject(abortError());
    const sent = origin.request({
      method: request.method,
      target: search ? `${path}?${search}` : path,
      headers,
      body: request.body,
    });
    const timer = setTimeout(
      () =>
        sent.cancel(
          new AwsTransportError('TimeoutError', `${this.service} request timed out after ${timeoutMs} ms`, undefined),
        ),
      timeoutMs,
    );
    const onAbort = () => sent.cancel(abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    return sent.response.then(
      (response) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        return response;
      },
      (error: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error instanceof HttpSocketError) {
          throw new AwsTransportError('NetworkError', `${this.service} request failed (${error.code})`, error.code);
        }
        throw error;
      },
    );
  }
}

function abortError(): Error {
  const error = new Error('The operation was aborted');
  error.name = 'AbortError';
  return error;
}

function requestIdOf(headers: WireResponse['headers']): string | undefined {
  return headers['x-amzn-requestid'] ?? headers['x-amz-request-id'];
}

function queryString(query: Readonly<Record<string, string>>): string {
  return Object.keys(query)
    .map((key) => `${uriEscape(key)}=${uriEscape(query[key]!)}`)
    .join('&');
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** One function around every call a client makes (the bench's meter, the fault-injection test). */
export type Interceptor<C> = (command: C, next: () => Promise<unknown>) => Promise<unknown>;

/** Interceptors of a client, outermost first: each sees the command before it is sent and its result. */
export class InterceptorChain<C> {
  private readonly chain: Interceptor<C>[] = [];

  /** Adds an interceptor; returns the function that removes it. */
  add(interceptor: Interceptor<C>): () => void {
    this.chain.push(interceptor);
    return () => {
      const at = this.chain.indexOf(interceptor);
      if (at >= 0) this.chain.splice(at, 1);
    };
  }

  run<O>(command: C, send: () => Promise<O>): Promise<O> {
    if (this.chain.length === 0) return send();
    const step = (index: number): Promise<unknown> =>
      index === this.chain.length ? send() : this.chain[index]!(command, () => step(index + 1));
    return step(0) as Promise<O>;
  }
}
