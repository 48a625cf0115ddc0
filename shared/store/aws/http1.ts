import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * A minimal HTTP/1.1 client on keep-alive sockets, for the AWS wire client: one write per request (head and
 * body in one buffer), a response parser for Content-Length and chunked bodies, and nothing else. Node's
 * http client costs ~0.6 ms of CPU per request here (ClientRequest, IncomingMessage, streams, agent); this
 * a fraction of that, and the click path makes several calls per click.
 */

export interface RawResponse {
  readonly status: number;
  /** Lower-case names; a repeated header keeps its last value. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** A socket failed or closed before the response was complete (`code` is Node's, e.g. ECONNRESET). */
export class SocketError extends Error {
  override readonly name = 'SocketError';
  constructor(readonly code: string | undefined) {
    super(`socket failed (${code ?? 'closed'})`);
  }
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
/** Idle sockets are closed after this long (AWS closes idle connections itself after about a minute). */
const IDLE_MS = 30_000;

interface Exchange {
  resolve(response: RawResponse): void;
  reject(error: Error): void;
  /** Set once the request is on a connection. */
  connection?: Connection;
}

/** One keep-alive connection: at most one request in flight. */
class Connection {
  /** Response bytes received so far, concatenated only when a complete response may be there. */
  private chunks: Buffer[] = [];
  private received = 0;
  /** Total bytes of the response once its head said so (Content-Length). */
  private expected: number | undefined;
  private exchange: Exchange | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  closed = false;

  constructor(
    readonly socket: Socket,
    private readonly onIdle: (connection: Connection) => void,
    private readonly onClose: (connection: Connection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => this.close(new SocketError(error.code)));
    socket.on('close', () => this.close(new SocketError('ECONNRESET')));
    socket.on('end', () => this.close(new SocketError('ECONNRESET')));
  }

  send(request: Buffer, exchange: Exchange): void {
    clearTimeout(this.idleTimer);
    this.socket.ref();
    exchange.connection = this;
    this.exchange = exchange;
    this.chunks = [];
    this.received = 0;
    this.expected = undefined;
    this.socket.write(request);
  }

  /** Drops the connection; a request in flight fails with `error`. */
  close(error: Error): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.socket.destroy();
    const exchange = this.exchange;
    this.exchange = undefined;
    exchange?.reject(error);
    this.onClose(this);
  }

  private data(chunk: Buffer): void {
    if (!this.exchange) {
      // Bytes nobody asked for: the connection is out of step; drop it.
      this.close(new SocketError('EPROTO'));
      return;
    }
    this.chunks.push(chunk);
    this.received += chunk.length;
    if (this.expected !== undefined && this.received < this.expected) return;
    const data = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.received);
    this.chunks = [data];
    let parsed: ReturnType<typeof parseResponse>;
    try {
      parsed = parseResponse(data);
    } catch {
      this.close(new SocketError('EPROTO'));
      return;
    }
    if (parsed === undefined) return;
    if ('need' in parsed) {
      this.expected = parsed.need;
      return;
    }
    const exchange = this.exchange;
    this.exchange = undefined;
    this.chunks = [];
    if (parsed.response.headers.connection?.toLowerCase() === 'close' || parsed.rest > 0) {
      this.closed = true;
      this.socket.destroy();
      this.onClose(this);
    } else {
      this.socket.unref();
      this.idleTimer = setTimeout(() => this.close(new SocketError('idle')), IDLE_MS);
      this.idleTimer.unref();
      this.onIdle(this);
    }
    exchange.resolve(parsed.response);
  }
}

/**
 * A complete response at the start of `data`; `need` (total bytes) once the head is there but not the
 * whole Content-Length body; undefined while more bytes are needed.
 */
function parseResponse(data: Buffer): { response: RawResponse; rest: number } | { need: number } | undefined {
  const headEnd = data.indexOf(HEAD_END);
  if (headEnd < 0) return undefined;
  const lines = data.toString('latin1', 0, headEnd).split('\r\n');
  const status = Number(lines[0]!.split(' ')[1]);
  if (!Number.isInteger(status)) throw new SocketError('EPROTO');
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const bodyStart = headEnd + HEAD_END.length;
  if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
    const chunks: Buffer[] = [];
    let at = bodyStart;
    for (;;) {
      const lineEnd = data.indexOf(CRLF, at);
      if (lineEnd < 0) return undefined;
      const size = Number.parseInt(data.toString('latin1', at, lineEnd).split(';')[0]!, 16);
      if (!Number.isInteger(size) || size < 0) throw new SocketError('EPROTO');
      at = lineEnd + CRLF.length;
      if (size === 0) {
        // Trailers (ignored) end with an empty line.
        for (;;) {
          const trailerEnd = data.indexOf(CRLF, at);
          if (trailerEnd < 0) return undefined;
          const empty = trailerEnd === at;
          at = trailerEnd + CRLF.length;
          if (empty) break;
        }
        return { response: { status, headers, body: Buffer.concat(chunks) }, rest: data.length - at };
      }
      if (data.length < at + size + CRLF.length) return undefined;
      chunks.push(data.subarray(at, at + size));
      at += size + CRLF.length;
    }
  }
  const length = headers['content-length'] === undefined ? 0 : Number(headers['content-length']);
  if (!Number.isInteger(length) || length < 0) throw new SocketError('EPROTO');
  if (data.length < bodyStart + length) return { need: bodyStart + length };
  return {
    response: { status, headers, body: data.subarray(bodyStart, bodyStart + length) },
    rest: data.length - bodyStart - length,
  };
}

interface Waiter {
  readonly request: Buffer;
  readonly exchange: Exchange;
}

/** Keep-alive connections to one origin, at most `maxSockets` at a time; further requests wait their turn. */
export class ConnectionPool {
  private readonly idle: Connection[] = [];
  private readonly waiting: Waiter[] = [];
  private open = 0;

  constructor(
    private readonly origin: { readonly protocol: string; readonly hostname: string; readonly port: number },
    private readonly maxSockets = 50,
  ) {}

  /**
   * Sends a complete request (head and body) and resolves with the response. `cancel` is called with the
   * function that aborts the request (a timeout or an abort signal): the connection is dropped.
   */
  request(request: Buffer, cancel: (abort: (error: Error) => void) => void): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      let done = false;
      const exchange: Exchange = {
        resolve: (response) => {
          done = true;
          resolve(response);
        },
        reject: (error) => {
          done = true;
          reject(error);
        },
      };
      const waiter: Waiter = { request, exchange };
      cancel((error) => {
        if (done) return;
        if (exchange.connection) {
          exchange.connection.close(error);
          return;
        }
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        exchange.reject(error);
      });
      if (done) return;
      const reused = this.idle.pop();
      if (reused) reused.send(request, exchange);
      else if (this.open < this.maxSockets) this.connect().send(request, exchange);
      else this.waiting.push(waiter);
    });
  }

  destroy(): void {
    for (const connection of [...this.idle]) connection.close(new SocketError('destroyed'));
    this.idle.length = 0;
  }

  private connect(): Connection {
    const { protocol, hostname, port } = this.origin;
    const socket =
      protocol === 'https:'
        ? tlsConnect({ host: hostname, port, servername: hostname, ALPNProtocols: ['http/1.1'] })
        : netConnect({ host: hostname, port });
    this.open++;
    return new Connection(
      socket,
      (connection) => this.release(connection),
      (connection) => {
        this.open--;
        const at = this.idle.indexOf(connection);
        if (at >= 0) this.idle.splice(at, 1);
        this.drain();
      },
    );
  }

  private release(connection: Connection): void {
    const next = this.waiting.shift();
    if (next) connection.send(next.request, next.exchange);
    else this.idle.push(connection);
  }

  private drain(): void {
    while (this.waiting.length > 0 && this.open < this.maxSockets) {
      const next = this.waiting.shift()!;
      this.connect().send(next.request, next.exchange);
    }
  }
}
