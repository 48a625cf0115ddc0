import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * HTTP/1.1 for the AWS wire, straight on keep-alive sockets: one request per socket at a time, the head and
 * body written in one go, the answer framed by Content-Length or chunked encoding (or the socket's close).
 * node:http costs ~0.2 ms of CPU per call in its request/agent/parser machinery; this costs a few tens of µs,
 * and a click makes five or six calls. Nothing here knows AWS: wire.ts signs, retries and types the errors.
 */

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  /** Path and query, as sent on the request line. */
  readonly target: string;
  /** Every header to send, `host` and `content-length` included. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface HttpResponse {
  readonly status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Record<string, string | undefined>;
  readonly body: Buffer;
}

/** A socket-level failure: `code` is the system error code (ECONNRESET, ECONNREFUSED…) or what went wrong. */
export class HttpSocketError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpSocketError';
  }
}

export interface OriginOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** Sockets open at once; more requests wait for one (the SDK's default on Lambda: 50). */
  readonly maxSockets: number;
  /** Trust anchors other than the system's (an endpoint with a private CA; the tests' own certificate). */
  readonly ca?: string;
}

type Settle = { resolve(response: HttpResponse): void; reject(error: Error): void };

/** One origin (scheme, host, port): its idle and busy sockets, and the requests waiting for one. */
export class HttpOrigin {
  private readonly idle: Connection[] = [];
  private open = 0;
  private readonly waiting: Array<(connection: Connection) => void> = [];

  constructor(private readonly options: OriginOptions) {}

  /**
   * Sends one request; the promise settles with the whole answer, or a HttpSocketError. `cancel` (a timeout,
   * an abort) destroys the socket the request is on with the given error.
   */
  request(request: HttpRequest): { response: Promise<HttpResponse>; cancel(error: Error): void } {
    let connection: Connection | undefined;
    let cancelled: Error | undefined;
    let settle!: Settle;
    const response = new Promise<HttpResponse>((resolve, reject) => {
      settle = { resolve, reject };
    });
    this.acquire((acquired) => {
      if (cancelled) {
        this.release(acquired);
        return;
      }
      connection = acquired;
      acquired.send(request, settle);
    });
    return {
      response,
      cancel: (error) => {
        if (cancelled) return;
        cancelled = error;
        if (connection) connection.destroy(error);
        else settle.reject(error);
      },
    };
  }

  /** Closes every socket (busy ones fail their request). */
  destroy(): void {
    for (const connection of this.idle.splice(0)) connection.destroy();
  }

  private acquire(use: (connection: Connection) => void): void {
    const idle = this.idle.pop();
    if (idle) use(idle);
    else if (this.open < this.options.maxSockets) {
      this.open++;
      use(new Connection(this.options, (connection, reusable) => this.done(connection, reusable)));
    } else this.waiting.push(use);
  }

  private release(connection: Connection): void {
    this.done(connection, true);
  }

  /** A request finished: the socket goes to the next waiting request, back to the idle list, or away. */
  private done(connection: Connection, reusable: boolean): void {
    if (!reusable) {
      this.open--;
      const next = this.waiting.shift();
      if (next) {
        this.open++;
        next(new Connection(this.options, (c, r) => this.done(c, r)));
      }
      return;
    }
    const next = this.waiting.shift();
    if (next) {
      next(connection);
      return;
    }
    connection.idle(() => {
      const at = this.idle.indexOf(connection);
      if (at >= 0) this.idle.splice(at, 1);
      this.open--;
    });
    this.idle.push(connection);
  }
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** One socket and the answer being read on it. */
class Connection {
  private readonly socket: Socket;
  private current: Settle | undefined;
  private onIdleClose: (() => void) | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private head: { status: number; headers: Record<string, string | undefined>; close: boolean } | undefined;
  private framing: { kind: 'length'; remaining: number } | { kind: 'chunked' } | { kind: 'close' } | undefined;
  private readonly parts: Buffer[] = [];
  private closed = false;

  constructor(
    options: OriginOptions,
    private readonly finished: (connection: Connection, reusable: boolean) => void,
  ) {
    this.socket = options.tls
      ? tlsConnect({
          host: options.host,
          port: options.port,
          ...(isIP(options.host) ? {} : { servername: options.host }),
          ALPNProtocols: ['http/1.1'],
          ...(options.ca === undefined ? {} : { ca: options.ca }),
        })
      : netConnect({ host: options.host, port: options.port });
    this.socket.setNoDelay(true);
    this.socket.setKeepAlive(true, 30_000);
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', (error: NodeJS.ErrnoException) =>
      this.fail(new HttpSocketError(error.code ?? error.name, `socket error (${error.code ?? error.name})`)),
    );
    this.socket.on('close', () => {
      this.closed = true;
      if (this.current && this.framing?.kind === 'close' && this.head) this.complete();
      else this.fail(new HttpSocketError('ECONNRESET', 'socket closed before the answer was complete'));
    });
  }

  send(request: HttpRequest, settle: Settle): void {
    if (this.closed) {
      settle.reject(new HttpSocketError('ECONNRESET', 'socket closed'));
      this.finished(this, false);
      return;
    }
    this.onIdleClose = undefined;
    this.current = settle;
    this.socket.ref();
    let text = `${request.method} ${request.target} HTTP/1.1\r\n`;
    for (const name in request.headers) text += `${name}: ${request.headers[name]}\r\n`;
    text += '\r\n';
    if (request.body !== undefined) text += request.body;
    this.socket.write(text);
  }

  /** Waits idle: does not hold the process open; `gone` runs if the server closes it meanwhile. */
  idle(gone: () => void): void {
    this.onIdleClose = gone;
    this.socket.unref();
  }

  destroy(error?: Error): void {
    if (error) this.fail(error);
    else {
      this.closed = true;
      this.socket.destroy();
    }
  }

  private fail(error: Error): void {
    const settle = this.current;
    this.current = undefined;
    if (!this.closed) {
      this.closed = true;
      this.socket.destroy();
    }
    if (settle) {
      settle.reject(error);
      this.finished(this, false);
    } else if (this.onIdleClose) {
      const gone = this.onIdleClose;
      this.onIdleClose = undefined;
      gone();
    }
  }

  private read(chunk: Buffer): void {
    if (!this.current) {
      // Bytes nobody asked for: the socket cannot be trusted for the next request.
      this.fail(new HttpSocketError('EPROTO', 'unexpected bytes on an idle socket'));
      return;
    }
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    try {
      this.parse();
    } catch (error) {
      this.fail(error instanceof HttpSocketError ? error : new HttpSocketError('EPROTO', 'malformed HTTP answer'));
    }
  }

  private parse(): void {
    for (;;) {
      if (!this.head) {
        const end = this.buffer.indexOf(CRLF_CRLF);
        if (end < 0) {
          if (this.buffer.length > 64 * 1024) throw new HttpSocketError('EPROTO', 'answer head too large');
          return;
        }
        const head = parseHead(this.buffer.toString('latin1', 0, end));
        this.buffer = this.buffer.subarray(end + 4);
        // 1xx answers (100 Continue) precede the real one.
        if (head.status < 200) continue;
        this.head = head;
        const length = head.headers['content-length'];
        const encoding = head.headers['transfer-encoding'];
        if (encoding !== undefined && /chunked/i.test(encoding)) this.framing = { kind: 'chunked' };
        else if (length !== undefined) {
          const remaining = Number(length);
          if (!Number.isSafeInteger(remaining) || remaining < 0) throw new HttpSocketError('EPROTO', 'bad length');
          this.framing = { kind: 'length', remaining };
        } else if (head.status === 204 || head.status === 304) this.framing = { kind: 'length', remaining: 0 };
        else this.framing = { kind: 'close' };
      }
      const framing = this.framing!;
      if (framing.kind === 'close') {
        if (this.buffer.length > 0) this.parts.push(this.buffer);
        this.buffer = Buffer.alloc(0);
        return;
      }
      if (framing.kind === 'length') {
        const take = Math.min(framing.remaining, this.buffer.length);
        if (take > 0) this.parts.push(this.buffer.subarray(0, take));
        this.buffer = this.buffer.subarray(take);
        framing.remaining -= take;
        if (framing.remaining === 0) this.complete();
        return;
      }
      // Chunked: size line, data, CRLF … a zero size, trailers, an empty line.
      const lineEnd = this.buffer.indexOf(CRLF);
      if (lineEnd < 0) return;
      const size = Number.parseInt(this.buffer.toString('latin1', 0, lineEnd).split(';')[0]!.trim(), 16);
      if (!Number.isSafeInteger(size) || size < 0) throw new HttpSocketError('EPROTO', 'bad chunk size');
      if (size === 0) {
        const trailersEnd = this.buffer.indexOf(CRLF_CRLF, lineEnd);
        const bare = this.buffer.length >= lineEnd + 4 && this.buffer.subarray(lineEnd, lineEnd + 4).equals(CRLF_CRLF);
        if (!bare && trailersEnd < 0) return;
        this.buffer = this.buffer.subarray((bare ? lineEnd : trailersEnd) + 4);
        this.complete();
        return;
      }
      if (this.buffer.length < lineEnd + 2 + size + 2) return;
      this.parts.push(this.buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
      this.buffer = this.buffer.subarray(lineEnd + 2 + size + 2);
    }
  }

  private complete(): void {
    const settle = this.current!;
    const head = this.head!;
    const body = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    const reusable = !head.close && this.framing?.kind !== 'close' && !this.closed && this.buffer.length === 0;
    this.current = undefined;
    this.head = undefined;
    this.framing = undefined;
    this.parts.length = 0;
    if (!reusable && !this.closed) {
      this.closed = true;
      this.socket.destroy();
    }
    this.finished(this, reusable);
    settle.resolve({ status: head.status, headers: head.headers, body });
  }
}

function parseHead(text: string): { status: number; headers: Record<string, string | undefined>; close: boolean } {
  // `HTTP/1.x NNN …`
  const status = Number(text.slice(9, 12));
  if (!text.startsWith('HTTP/1.') || text.charCodeAt(8) !== 32 || !(status >= 100 && status <= 999)) {
    throw new HttpSocketError('EPROTO', 'not an HTTP/1.x answer');
  }
  const headers: Record<string, string | undefined> = {};
  let at = text.indexOf('\r\n');
  while (at >= 0) {
    const start = at + 2;
    at = text.indexOf('\r\n', start);
    const line = at < 0 ? text.slice(start) : text.slice(start, at);
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const before = headers[name];
    headers[name] = before === undefined ? value : `${before}, ${value}`;
  }
  const connection = headers.connection?.toLowerCase();
  const close = connection === 'close' || (text.charCodeAt(7) === 48 /* 1.0 */ && connection !== 'keep-alive');
  return { status, headers, close };
}
