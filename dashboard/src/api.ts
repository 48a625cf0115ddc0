import type { PropertySummary } from '../../shared/schemas/properties';

/**
 * The dashboard's only way to the API. The key lives in this closure and nowhere else: never in
 * localStorage, sessionStorage, a cookie or a URL, so it is gone when the tab is closed or reloaded.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Session {
  readonly propertyId: string;
  readonly name: string;
  readonly kind: 'secret' | 'readonly';
  readonly currency: string;
  readonly timezone: string;
  readonly monitorOnly: boolean;
}

export interface Api {
  readonly session: Session;
  get<T>(path: string): Promise<T>;
  send<T>(method: 'POST' | 'PUT', path: string, body: unknown): Promise<T>;
  text(path: string): Promise<string>;
  /** DELETE; the parsed body, or undefined for a 204. */
  remove<T>(path: string): Promise<T | undefined>;
}

async function call(
  key: string,
  method: string,
  path: string,
  body?: unknown,
  header = 'x-api-key',
): Promise<Response> {
  const headers: Record<string, string> = { [header]: key };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
  });
  if (!response.ok) {
    const error = (await response.json().catch(() => ({}))) as { code?: string; error?: string };
    throw new ApiError(response.status, error.code ?? 'ERROR', error.error ?? response.statusText);
  }
  return response;
}

/** Checks the key with GET /v1/session; the returned client keeps it in memory. */
export async function signIn(key: string): Promise<Api> {
  const trimmed = key.trim();
  if (!/^(rk|sk)_[A-Za-z0-9_-]+$/.test(trimmed)) {
    throw new ApiError(0, 'NOT_A_KEY', 'Paste the read-only key (rk_…) or the secret key (sk_…) of your property.');
  }
  const session = (await (await call(trimmed, 'GET', '/v1/session')).json()) as Session;
  return {
    session,
    get: async (path) => (await call(trimmed, 'GET', path)).json(),
    send: async (method, path, body) => (await call(trimmed, method, path, body)).json(),
    text: async (path) => (await call(trimmed, 'GET', path)).text(),
    remove: async (path) => {
      const response = await call(trimmed, 'DELETE', path);
      return response.status === 204 ? undefined : response.json();
    },
  };
}

/**
 * The operator's sign-in: the deployment's admin key (sent as x-admin-key, kept in this closure only)
 * is checked by listing the properties, the one thing the dashboard does with it.
 */
export async function signInAdmin(key: string): Promise<{ properties: () => Promise<PropertySummary[]> }> {
  const trimmed = key.trim();
  if (!trimmed) throw new ApiError(0, 'NOT_A_KEY', 'Paste the deployment’s admin key.');
  const list = async () =>
    (
      (await (await call(trimmed, 'GET', '/v1/properties', undefined, 'x-admin-key')).json()) as {
        properties: PropertySummary[];
      }
    ).properties;
  await list();
  return { properties: list };
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return 'That key was not accepted (401 UNAUTHORIZED). Check it, or ask for a new one.';
    if (error.status === 403) return `Not allowed with this key (403 FORBIDDEN): ${error.message}`;
    if (error.status === 0) return error.message;
    return `${error.status} ${error.code}: ${error.message}`;
  }
  return 'The API could not be reached. Check your connection and try again.';
}
