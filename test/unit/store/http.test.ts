import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import path from 'node:path';
import { HttpOrigin, HttpSocketError } from '../../../shared/store/aws/http';

/**
 * The AWS wire's own HTTP/1.1 client against real node servers: framing by length, chunks and close,
 * keep-alive reuse, a server that drops idle sockets, queueing past the socket limit, cancellation, TLS.
 */
const servers: Array<{ close(cb: () => void): void }> = [];
afterAll(() => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))));

async function listen(server: Server | ReturnType<typeof createNetServer>): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const origin = (port: number, maxSockets = 50, tls = false) =>
  new HttpOrigin({ host: tls ? 'localhost' : '127.0.0.1', port, tls, maxSockets });
const post = (body: string, extra: Record<string, string> = {}) => ({
  method: 'POST' as const,
  target: '/x?a=1',
  headers: { host: 'h', 'content-length': String(Buffer.byteLength(body)), ...extra },
  body,
});

describe('over node:http servers', () => {
  let port: number;
  const sockets = new Set<Socket>();
  let handle: (req: IncomingMessage, res: ServerResponse, body: string) => void = () => undefined;
  beforeAll(async () => {
    const server = createHttpServer((req, res) => {
      sockets.add(req.socket);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    port = await listen(server);
  });
  beforeEach(() => sockets.clear());

  it('sends the request as given and reads a Content-Length answer, reusing one socket', async () => {
    const seen: string[] = [];
    handle = (req, res, body) => {
      seen.push(`${req.method} ${req.url} ${req.headers['x-amz-target']} ${body}`);
      res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': 'r1' });
      res.end(JSON.stringify({ echo: body, unicode: 'é✓' }));
    };
    const http = origin(port);
    for (let i = 0; i < 5; i++) {
      const answer = await http.request(post(`{"i":${i},"s":"ü"}`, { 'x-amz-target': 'T.Op' })).response;
      expect(answer.status).toBe(200);
      expect(answer.headers['x-amzn-requestid']).toBe('r1');
      expect(JSON.parse(answer.body.toString('utf8'))).toEqual({ echo: `{"i":${i},"s":"ü"}`, unicode: 'é✓' });
    }
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => `POST /x?a=1 T.Op {"i":${i},"s":"ü"}`));
    expect(sockets.size).toBe(1);
    http.destroy();
  });

  it('reads chunked answers, large ones split across many packets', async () => {
    const big = 'x'.repeat(300_000);
    handle = (_req, res) => {
      res.writeHead(404, { 'transfer-encoding': 'chunked' });
      res.write('{"a":"');
      res.write(big);
      setTimeout(() => res.end('"}'), 5);
    };
    const http = origin(port);
    const answer = await http.request({ method: 'GET', target: '/', headers: { host: 'h' } }).response;
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body.toString())).toEqual({ a: big });
    // The socket stays usable after a chunked answer.
    handle = (_req, res) => res.end('ok');
    expect((await http.request(post('{}')).response).body.toString()).toBe('ok');
    expect(sockets.size).toBe(1);
    http.destroy();
  });

  it('opens a new socket after Connection: close, and after the server drops an idle one', async () => {
    handle = (_req, res) => {
      res.writeHead(200, { connection: 'close' });
      res.end('bye');
    };
    const http = origin(port);
    expect((await http.request(post('{}')).response).body.toString()).toBe('bye');
    handle = (_req, res) => res.end('again');
    expect((await http.request(post('{}')).response).body.toString()).toBe('again');
    expect(sockets.size).toBe(2);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await http.request(post('{}')).response).body.toString()).toBe('again');
    expect(sockets.size).toBe(3);
    http.destroy();
  });

  it('queues requests past the socket limit and answers each its own', async () => {
    handle = (_req, res, body) => setTimeout(() => res.end(body), 2);
    const http = origin(port, 4);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => http.request(post(String(i))).response.then((a) => a.body.toString())),
    );
    expect(answers).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
    expect(sockets.size).toBeLessThanOrEqual(4);
    http.destroy();
  });

  it('cancels a request that hangs, with the given error, and keeps serving others', async () => {
    handle = (_req, res, body) => {
      if (body !== 'hang') res.end(body);
    };
    const http = origin(port, 1);
    const hanging = http.request(post('hang'));
    const queued = http.request(post('next'));
    setTimeout(() => hanging.cancel(new Error('timed out')), 30);
    await expect(hanging.response).rejects.toThrow('timed out');
    expect((await queued.response).body.toString()).toBe('next');
    // A request cancelled while it waits for a socket never goes out.
    const waiting = [http.request(post('hang')), http.request(post('never'))];
    waiting[1]!.cancel(new Error('gave up'));
    await expect(waiting[1]!.response).rejects.toThrow('gave up');
    waiting[0]!.cancel(new Error('stop'));
    await expect(waiting[0]!.response).rejects.toThrow('stop');
    http.destroy();
  });
});

describe('over raw sockets', () => {
  const raw = async (onData: (socket: Socket, text: string) => void) => {
    const server = createNetServer((socket) => socket.on('data', (d: Buffer) => onData(socket, d.toString('latin1'))));
    return origin(await listen(server));
  };

  it('reads an HTTP/1.0 answer delimited by the close of the socket', async () => {
    const http = await raw((socket) => socket.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close'));
    const answer = await http.request(post('{}')).response;
    expect(answer).toMatchObject({ status: 200, headers: { 'content-type': 'text/plain' } });
    expect(answer.body.toString()).toBe('until close');
  });

  it('skips 100 Continue, joins repeated headers and reads a head split byte by byte', async () => {
    const http = await raw((socket) => {
      const text =
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 4\r\n\r\nbody';
      let i = 0;
      const next = () => {
        if (i < text.length) socket.write(text[i++]!, () => setImmediate(next));
      };
      next();
    });
    const answer = await http.request(post('{}')).response;
    expect(answer.status).toBe(201);
    expect(answer.headers['x-a']).toBe('1, 2');
    expect(answer.body.toString()).toBe('body');
    http.destroy();
  });

  it('fails with a socket error, never a hang, when the server resets mid-answer or talks garbage', async () => {
    const reset = await raw((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
      setTimeout(() => socket.destroy(), 5);
    });
    await expect(reset.request(post('{}')).response).rejects.toBeInstanceOf(HttpSocketError);
    const garbage = await raw((socket) => socket.write('SMTP ready\r\n\r\n'));
    await expect(garbage.request(post('{}')).response).rejects.toMatchObject({ code: 'EPROTO' });
    const refused = origin(1);
    await expect(refused.request(post('{}')).response).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

it('speaks TLS (as to AWS endpoints)', async () => {
  const dir = path.join(__dirname, '../../fixtures/tls');
  const server = createHttpsServer(
    {
      key: readFileSync(path.join(dir, 'localhost-test-only.key')),
      cert: readFileSync(path.join(dir, 'localhost-test-only.crt')),
    },
    (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ secure: (req.socket as { encrypted?: boolean }).encrypted === true }));
    },
  );
  const port = await listen(server);
  const http = origin(port, 50, true);
  // An untrusted certificate is refused…
  await expect(http.request(post('{}')).response).rejects.toBeInstanceOf(HttpSocketError);
  // …and a trusted one carries the request.
  const trusting = new HttpOrigin({
    host: 'localhost',
    port,
    tls: true,
    maxSockets: 1,
    ca: readFileSync(path.join(dir, 'localhost-test-only.crt'), 'utf8'),
  });
  const answer = await trusting.request(post('{}')).response;
  expect(JSON.parse(answer.body.toString())).toEqual({ secure: true });
  http.destroy();
  trusting.destroy();
});
