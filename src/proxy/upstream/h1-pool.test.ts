/** The HTTP/1.1 upstream pool against real upstreams: node:http servers and raw TCP servers sending exact bytes. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { upstreamChannel, type UpstreamEvent } from '../../snapshot/index.ts';
import { eventually } from '../../../test/support/eventually.ts';
import { refusedPort } from '../../../test/support/upstreams.ts';
import { H1Pool, type H1PoolOptions } from './h1-pool.ts';
import { recycle } from './read-buffers.ts';
import { classify, UPSTREAM_CONNECT_TIMEOUT, UPSTREAM_POOL_CLOSED } from './errors.ts';
import type { UpstreamController, UpstreamHandler, UpstreamHeaders, UpstreamRequest } from './pool.ts';

/** Records one request's callbacks; `done` settles at onResponseEnd or onResponseError. */
class Recorder implements UpstreamHandler {
  events: string[] = [];
  controller: UpstreamController | null = null;
  status = 0;
  headers: string[] = [];
  chunks: Buffer[] = [];
  trailers: UpstreamHeaders | null = null;
  error: Error | null = null;
  readonly done: Promise<void>;
  #settle!: () => void;
  /** Called with each chunk (after it is recorded). */
  onChunk: ((c: UpstreamController, chunk: Buffer) => void) | null = null;

  constructor() {
    this.done = new Promise((resolve) => { this.#settle = resolve; });
  }

  get body(): string { return Buffer.concat(this.chunks).toString('latin1'); }
  header(name: string): string | undefined {
    for (let i = 0; i < this.headers.length; i += 2) if (this.headers[i] === name) return this.headers[i + 1];
    return undefined;
  }

  onRequestStart(c: UpstreamController): void { this.controller = c; this.events.push('request'); }
  onResponseStartFlat(_c: UpstreamController, status: number, headers: string[]): void {
    this.events.push('start');
    this.status = status;
    this.headers = headers;
  }
  onResponseData(c: UpstreamController, chunk: Buffer): void {
    this.chunks.push(Buffer.from(chunk));
    this.onChunk?.(c, chunk);
  }
  onResponseEnd(_c: UpstreamController, trailers: UpstreamHeaders): void {
    this.events.push('end');
    this.trailers = trailers;
    this.#settle();
  }
  onResponseError(_c: UpstreamController | null, err: Error): void {
    this.events.push('error');
    this.error = err;
    this.#settle();
  }
}

function get(path = '/', extra: Partial<UpstreamRequest> = {}): UpstreamRequest {
  return { method: 'GET', path, headers: ['host', 'upstream.test'], body: null, ...extra };
}

async function send(pool: H1Pool, req: UpstreamRequest = get()): Promise<Recorder> {
  const r = new Recorder();
  pool.dispatch(req, r);
  await r.done;
  return r;
}

function newPool(t: TestContext, port: number, options?: H1PoolOptions, connectTimeoutMs = 2000): H1Pool {
  const pool = new H1Pool('127.0.0.1', port, 'b', connectTimeoutMs, options);
  t.after(() => pool.destroy());
  return pool;
}

async function listen(t: TestContext, server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

/** A node:http upstream counting its TCP connections. */
async function httpUpstream(t: TestContext, handler: http.RequestListener): Promise<{ port: number; connections: () => number; server: http.Server }> {
  let n = 0;
  const server = http.createServer(handler);
  server.keepAliveTimeout = 10_000;
  server.on('connection', () => { n++; });
  t.after(() => server.closeAllConnections());
  return { port: await listen(t, server), connections: () => n, server };
}

interface RawConn {
  socket: net.Socket;
  /** Everything received so far. */
  data: string;
  /** Number of this connection, from 1. */
  n: number;
}

/**
 * A raw TCP upstream: `onRequest` is called for every complete request head (bodies are not
 * expected) with the connection and the head's index on that connection.
 */
async function rawUpstream(t: TestContext, onRequest: (c: RawConn, head: string, index: number) => void): Promise<{ port: number; conns: RawConn[] }> {
  const conns: RawConn[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    const c: RawConn = { socket, data: '', n: conns.length + 1 };
    conns.push(c);
    let parsed = 0;
    let index = 0;
    socket.on('data', (d) => {
      c.data += d.toString('latin1');
      for (;;) {
        const end = c.data.indexOf('\r\n\r\n', parsed);
        if (end < 0) break;
        const head = c.data.slice(parsed, end + 4);
        parsed = end + 4;
        onRequest(c, head, index++);
      }
    });
  });
  t.after(() => { for (const c of conns) c.socket.destroy(); });
  return { port: await listen(t, server), conns };
}

function recordEvents(t: TestContext): UpstreamEvent[] {
  const events: UpstreamEvent[] = [];
  const fn = (e: unknown) => { events.push(e as UpstreamEvent); };
  upstreamChannel.subscribe(fn);
  t.after(() => { upstreamChannel.unsubscribe(fn); });
  return events;
}

test('sequential requests reuse one kept-alive connection; connect and disconnect are published', async (t) => {
  const events = recordEvents(t);
  const up = await httpUpstream(t, (req, res) => { res.setHeader('x-url', req.url!); res.end(`hello ${req.url}`); });
  const pool = newPool(t, up.port);
  for (let i = 0; i < 5; i++) {
    const r = await send(pool, get(`/n/${i}`));
    assert.deepEqual(r.events, ['request', 'start', 'end']);
    assert.equal(r.status, 200);
    assert.equal(r.header('x-url'), `/n/${i}`);
    assert.equal(r.body, `hello /n/${i}`);
    assert.ok(Object.isFrozen(r.trailers) && Object.keys(r.trailers!).length === 0);
  }
  assert.equal(up.connections(), 1);
  assert.equal(pool.size, 1);
  assert.equal(pool.idleCount, 1);
  const mine = () => events.filter((e) => e.endpoint === `127.0.0.1:${up.port}`).map((e) => e.type);
  assert.deepEqual(mine(), ['connect']);
  await pool.close();
  assert.equal(pool.size, 0);
  assert.deepEqual(mine(), ['connect', 'disconnect']);
  assert.deepEqual(events.find((e) => e.type === 'connect'), { type: 'connect', backend: 'b', endpoint: `127.0.0.1:${up.port}`, protocol: 'http1' });
});

test('request framing: fields as given, framing fields decided by the body, head and body in one write, content-length: 0 only where a body is expected', async (t) => {
  const up = await rawUpstream(t, (c, head) => {
    if (/^GET|^HEAD|^DELETE/.test(head) || /content-length: 0\r\n/.test(head)) c.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
  });
  let writes = 0;
  const pool = newPool(t, up.port, {
    connect: (port, host) => {
      const s = net.connect({ port, host });
      const write = s.write;
      s.write = function (this: net.Socket, ...args: unknown[]) { writes++; return (write as (...a: unknown[]) => boolean).apply(this, args); } as typeof s.write;
      return s;
    },
  });
  const r = new Recorder();
  pool.dispatch({
    method: 'POST', path: '/p?q=1', headers: ['host', 'h', 'content-length', '999', 'transfer-encoding', 'chunked', 'x-a', 'b'],
    body: Buffer.from('hello'),
  }, r);
  await eventually(() => up.conns[0]?.data.endsWith('hello') === true);
  const c = up.conns[0];
  assert.equal(c.data, 'POST /p?q=1 HTTP/1.1\r\nhost: h\r\nx-a: b\r\ncontent-length: 5\r\n\r\nhello');
  assert.equal(writes, 1, 'head and body in one write');
  c.socket.write('HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok');
  await r.done;
  assert.equal(r.status, 201);
  assert.equal(r.body, 'ok');

  const post = await send(pool, { method: 'POST', path: '/', headers: ['host', 'h'], body: null });
  assert.equal(post.status, 200);
  const g = await send(pool, get('/g', { headers: ['host', 'h', 'content-length', '0'] }));
  assert.equal(g.status, 200);
  assert.equal(up.conns.length, 1, 'one connection for all three');
  assert.equal(writes, 3, 'one write per request');
  assert.match(up.conns[0].data, /POST \/ HTTP\/1\.1\r\nhost: h\r\ncontent-length: 0\r\n\r\nGET \/g HTTP\/1\.1\r\nhost: h\r\n\r\n$/);
});

test('content-length, chunked with trailers, and close-delimited responses', async (t) => {
  const up = await rawUpstream(t, (c, head) => {
    const path = head.split(' ')[1];
    if (path === '/cl') c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-Kind: cl\r\n\r\nhello world');
    if (path === '/chunked') {
      c.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n5\r\nhello\r\n');
      setImmediate(() => c.socket.write('1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Sum: 42\r\nx-multi: a\r\nX-Multi: b\r\n\r\n'));
    }
    if (path === '/close') {
      c.socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil');
      setImmediate(() => c.socket.end(' the end'));
    }
  });
  const pool = newPool(t, up.port);
  const cl = await send(pool, get('/cl'));
  assert.equal(cl.body, 'hello world');
  assert.equal(cl.header('x-kind'), 'cl');
  assert.equal(cl.header('content-length'), '11');
  const ch = await send(pool, get('/chunked'));
  assert.deepEqual(ch.events, ['request', 'start', 'end']);
  assert.equal(ch.body, 'hello world');
  assert.deepEqual(ch.trailers, { 'x-sum': '42', 'x-multi': ['a', 'b'] });
  assert.equal(up.conns.length, 1, 'the chunked response kept the connection');
  const close = await send(pool, get('/close'));
  assert.deepEqual(close.events, ['request', 'start', 'end']);
  assert.equal(close.body, 'until the end');
  await eventually(() => pool.size === 0);
});

test('HEAD, 204 and 304 have no body; the connection is reused after each', async (t) => {
  const up = await rawUpstream(t, (c, head) => {
    const path = head.split(' ')[1];
    if (head.startsWith('HEAD')) c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n');
    else if (path === '/204') c.socket.write('HTTP/1.1 204 No Content\r\n\r\n');
    else if (path === '/304') c.socket.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n');
    else c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody');
  });
  const pool = newPool(t, up.port);
  const head = await send(pool, get('/', { method: 'HEAD' }));
  assert.deepEqual([head.status, head.body, head.events], [200, '', ['request', 'start', 'end']]);
  assert.equal(head.header('content-length'), '1234');
  const noContent = await send(pool, get('/204'));
  assert.deepEqual([noContent.status, noContent.body], [204, '']);
  const notModified = await send(pool, get('/304'));
  assert.deepEqual([notModified.status, notModified.body], [304, '']);
  const after = await send(pool, get('/x'));
  assert.equal(after.body, 'body');
  assert.equal(up.conns.length, 1);
});

test('100 Continue and 103 Early Hints are skipped, not relayed', async (t) => {
  const up = await rawUpstream(t, (c) => {
    c.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    setImmediate(() => c.socket.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  });
  const pool = newPool(t, up.port);
  const r = await send(pool);
  assert.deepEqual(r.events, ['request', 'start', 'end']);
  assert.equal(r.status, 200);
  assert.equal(r.header('link'), undefined);
  assert.equal(r.body, 'ok');
});

/** A Readable producing `total` bytes of a repeating pattern in 64 KiB chunks, counting what it produced. */
function producer(total: number): { stream: Readable; produced: () => number; hash: string } {
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7) % 251;
  const h = createHash('sha256');
  for (let sent = 0; sent < total; sent += chunk.length) h.update(chunk.subarray(0, Math.min(chunk.length, total - sent)));
  let produced = 0;
  const stream = new Readable({
    read() {
      if (produced >= total) { this.push(null); return; }
      const n = Math.min(chunk.length, total - produced);
      produced += n;
      this.push(chunk.subarray(0, n));
    },
  });
  return { stream, produced: () => produced, hash: h.digest('hex') };
}

test('a streamed request body is written with backpressure and arrives intact, chunked or with its content-length', async (t) => {
  const total = 64 * 1024 * 1024;
  let gate: (() => void) | null = null;
  const opened = new Promise<void>((resolve) => { gate = resolve; });
  const up = await httpUpstream(t, (req, res) => {
    const h = createHash('sha256');
    let n = 0;
    const read = () => {
      req.on('data', (c: Buffer) => { n += c.length; h.update(c); });
      req.on('end', () => res.end(JSON.stringify({ n, hash: h.digest('hex'), te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null })));
      req.resume();
    };
    if (req.url === '/slow') { req.pause(); void opened.then(read); } else read();
  });
  const sockets: net.Socket[] = [];
  const pool = newPool(t, up.port, { connect: (port, host) => { const s = net.connect({ port, host }); sockets.push(s); return s; } });

  const slow = producer(total);
  const r = new Recorder();
  pool.dispatch({ method: 'PUT', path: '/slow', headers: ['host', 'h'], body: slow.stream }, r);
  // The upstream does not read: once the socket buffers are full the body stays paused.
  await eventually(() => sockets[0]?.writableNeedDrain === true && slow.stream.isPaused());
  assert.ok(slow.produced() < total / 2, `produced ${slow.produced()} of ${total} before the upstream read`);
  gate!();
  await r.done;
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), { n: total, hash: slow.hash, te: 'chunked', cl: null });

  const size = 3 * 1024 * 1024 + 17;
  const sized = producer(size);
  const s = await send(pool, { method: 'POST', path: '/sized', headers: ['host', 'h', 'content-length', String(size)], body: sized.stream });
  assert.deepEqual(JSON.parse(s.body), { n: size, hash: sized.hash, te: null, cl: String(size) });
  assert.equal(up.connections(), 1, 'streamed requests leave the connection reusable');
});

test('a request body that fails, or does not match its content-length, fails the request and the connection', async (t) => {
  const up = await rawUpstream(t, () => {});
  const pool = newPool(t, up.port);
  const failing = new Readable({ read() {} });
  const r = new Recorder();
  pool.dispatch({ method: 'POST', path: '/', headers: ['host', 'h'], body: failing }, r);
  failing.push('part');
  await eventually(() => up.conns[0]?.data.includes('part') === true);
  failing.destroy(new Error('client went away'));
  await r.done;
  assert.deepEqual(r.events, ['request', 'error']);
  assert.match(r.error!.message, /request body/);
  assert.equal(classify(r.error!), 'reset');
  await eventually(() => up.conns[0].socket.destroyed || up.conns[0].socket.readableEnded);

  const short = await send(pool, { method: 'POST', path: '/', headers: ['host', 'h', 'content-length', '10'], body: Readable.from([Buffer.from('abc')]) });
  assert.match(short.error!.message, /shorter than its content-length/);
  const long = await send(pool, { method: 'POST', path: '/', headers: ['host', 'h', 'content-length', '2'], body: Readable.from([Buffer.from('abc')]) });
  assert.match(long.error!.message, /longer than its content-length/);
  await eventually(() => pool.size === 0);
});

test('connect refused is a connect failure and publishes connect_error', async (t) => {
  const events = recordEvents(t);
  const port = await refusedPort();
  const pool = newPool(t, port);
  const r = await send(pool);
  assert.deepEqual(r.events, ['request', 'error']);
  assert.equal((r.error as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  assert.equal(classify(r.error!), 'connect');
  await eventually(() => events.some((e) => e.type === 'connect_error' && e.endpoint === `127.0.0.1:${port}`));
  assert.equal(events.filter((e) => e.endpoint === `127.0.0.1:${port}` && (e.type === 'connect' || e.type === 'disconnect')).length, 0);
});

test('connect timeout: a socket that never connects fails as a connect failure', async (t) => {
  const events = recordEvents(t);
  const sockets: net.Socket[] = [];
  const pool = newPool(t, 1, {
    connect: () => {
      // A socket that stays connecting: writes queue up until a 'connect' that never comes.
      const s = new net.Socket();
      Object.assign(s, { connecting: true });
      sockets.push(s);
      return s;
    },
  }, 30);
  const r = await send(pool);
  assert.deepEqual(r.events, ['request', 'error']);
  assert.equal((r.error as NodeJS.ErrnoException).code, UPSTREAM_CONNECT_TIMEOUT);
  assert.equal(classify(r.error!), 'connect');
  assert.ok(sockets[0].destroyed);
  await eventually(() => events.some((e) => e.type === 'connect_error' && e.endpoint === '127.0.0.1:1'));
});

test('an upstream closing mid-body is an error, not an end (content-length and chunked)', async (t) => {
  const up = await rawUpstream(t, (c, head) => {
    if (head.includes('/cl')) c.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
    else c.socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel');
  });
  const pool = newPool(t, up.port);
  for (const path of ['/cl', '/chunked']) {
    const r = await send(pool, get(path));
    assert.deepEqual(r.events, ['request', 'start', 'error'], path);
    assert.equal(classify(r.error!), 'reset');
  }
  const none = await rawUpstream(t, (c) => c.socket.end());
  const r = await send(newPool(t, none.port));
  assert.deepEqual(r.events, ['request', 'error']);
  assert.equal(classify(r.error!), 'reset');
});

test('invalid responses (bare LF, Content-Length with Transfer-Encoding, 101 unasked) fail as resets', async (t) => {
  const answers: Record<string, string> = {
    '/lf': 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok',
    '/clte': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    '/chunk': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    '/101': 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n',
  };
  const up = await rawUpstream(t, (c, head) => c.socket.write(answers[head.split(' ')[1]]));
  const pool = newPool(t, up.port);
  for (const path of Object.keys(answers)) {
    const r = await send(pool, get(path));
    assert.equal(r.events.at(-1), 'error', path);
    assert.equal(classify(r.error!), 'reset', path);
    assert.ok(!r.events.includes('end'), path);
  }
  await eventually(() => pool.size === 0);
});

test('a stale kept-alive connection: an idempotent request goes again on a new connection, a POST fails', async (t) => {
  // Each connection answers its first request, then closes without answering the next one (the
  // upstream's keep-alive timer firing just as Ferry reuses the connection).
  const up = await rawUpstream(t, (c, _head, index) => {
    if (index === 0) c.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${c.n}`);
    else c.socket.destroy();
  });
  const pool = newPool(t, up.port);
  assert.equal((await send(pool)).body, '1');
  const again = await send(pool, get('/again'));
  assert.deepEqual(again.events, ['request', 'request', 'start', 'end']);
  assert.equal(again.body, '2');
  assert.equal(up.conns.length, 2);

  const post = await send(pool, { method: 'POST', path: '/', headers: ['host', 'h'], body: Buffer.from('x') });
  assert.deepEqual(post.events, ['request', 'error']);
  assert.equal(classify(post.error!), 'reset');
  assert.equal(up.conns.length, 2);
});

test('an idle connection the upstream closes is dropped; the next request opens a new one', async (t) => {
  const up = await rawUpstream(t, (c) => c.socket.end(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${c.n}`));
  const pool = newPool(t, up.port);
  assert.equal((await send(pool)).body, '1');
  await eventually(() => pool.size === 0);
  assert.equal((await send(pool)).body, '2');
});

test('bytes after the response, or on an idle connection, close the connection', async (t) => {
  const up = await rawUpstream(t, (c, head) => {
    if (head.includes('/extra')) c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA');
    else {
      c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      setImmediate(() => c.socket.write('junk'));
    }
  });
  const pool = newPool(t, up.port);
  assert.equal((await send(pool, get('/extra'))).body, 'ok');
  await eventually(() => pool.size === 0);
  assert.equal((await send(pool, get('/junk'))).body, 'ok');
  await eventually(() => pool.size === 0);
});

test('idle connections are closed after the keep-alive time', async (t) => {
  const up = await httpUpstream(t, (_q, res) => res.end('ok'));
  let closed = 0;
  up.server.on('connection', (s) => s.on('close', () => { closed++; }));
  const pool = newPool(t, up.port, { keepAliveMs: 100 });
  await Promise.all([send(pool), send(pool)]);
  assert.equal(pool.idleCount, 2);
  await eventually(() => closed === 2, { timeoutMs: 3000 });
  assert.equal(pool.size, 0);
});

test('pause and resume deliver every byte in order, content-length and chunked', async (t) => {
  const parts = Array.from({ length: 40 }, (_, i) => `<${i}:${'x'.repeat(i * 37)}>`);
  const whole = parts.join('');
  const up = await rawUpstream(t, (c, head) => {
    const chunked = head.includes('/chunked');
    c.socket.write(chunked ? 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' : `HTTP/1.1 200 OK\r\nContent-Length: ${whole.length}\r\n\r\n`);
    let i = 0;
    const next = () => {
      if (i >= parts.length) { if (chunked) c.socket.write('0\r\nx-done: yes\r\n\r\n'); return; }
      // Several pieces per write, so a pause can land in the middle of a read.
      const batch = parts.slice(i, i + 3);
      i += 3;
      c.socket.write(batch.map((p) => (chunked ? `${p.length.toString(16)}\r\n${p}\r\n` : p)).join(''));
      setImmediate(next);
    };
    next();
  });
  const pool = newPool(t, up.port);
  for (const path of ['/cl', '/chunked']) {
    const r = new Recorder();
    let pauses = 0;
    r.onChunk = (c) => {
      pauses++;
      c.pause();
      assert.equal(c.paused, true);
      setImmediate(() => c.resume());
    };
    pool.dispatch(get(path), r);
    await r.done;
    assert.deepEqual(r.events, ['request', 'start', 'end'], path);
    assert.equal(r.body, whole, path);
    assert.ok(pauses > 1, path);
    if (path === '/chunked') assert.deepEqual(r.trailers, { 'x-done': 'yes' });
  }
  assert.equal(up.conns.length, 1);
});

test('chunks are the handler\'s to keep: two connections reading at once never overwrite what was delivered', async (t) => {
  const size = 300_000;
  const up = await rawUpstream(t, (c, head) => {
    const letter = head.includes('/a') ? 'a' : 'b';
    const chunked = head.includes('chunked');
    if (head.includes('bulk')) {
      // all at once: reads fill the shared buffer, and the socket moves to buffers of its own
      c.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n${letter.repeat(size)}`);
      return;
    }
    c.socket.write(chunked ? 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' : `HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
    let sent = 0;
    const next = () => {
      if (sent >= size) { if (chunked) c.socket.write('0\r\n\r\n'); return; }
      const n = Math.min(size - sent, 1 + ((sent * 7919) % 20_000));
      sent += n;
      c.socket.write(chunked ? `${n.toString(16)}\r\n${letter.repeat(n)}\r\n` : letter.repeat(n));
      setImmediate(next);
    };
    next();
  });
  const pool = newPool(t, up.port);
  for (const framing of ['length', 'chunked', 'bulk']) {
    // Kept as delivered (no copies); one side pauses after every chunk so its bytes wait while the other reads.
    const kept: Record<string, Buffer[]> = { a: [], b: [] };
    const ends = ['a', 'b'].map((letter) => new Promise<void>((resolve, reject) => {
      pool.dispatch(get(`/${letter}/${framing}`), {
        onResponseData(c, chunk) {
          kept[letter].push(chunk);
          if (letter === 'a') { c.pause(); setImmediate(() => c.resume()); }
        },
        onResponseEnd: () => resolve(),
        onResponseError: (_c, err) => reject(err),
      });
    }));
    await Promise.all(ends);
    for (const letter of ['a', 'b']) {
      const body = Buffer.concat(kept[letter]);
      assert.equal(body.length, size, `${letter} ${framing}`);
      assert.equal(body.toString('latin1'), letter.repeat(size), `${letter} ${framing}`);
    }
  }
  assert.equal(up.conns.length, 2);
});

test('a chunk handed back with recycle() takes a later read; one kept is never written over', async (t) => {
  const size = 2_000_000;
  const up = await rawUpstream(t, (c) => {
    let body = '';
    for (let i = 0; body.length < size; i++) body += String(i).padStart(7, '0') + ' ';
    c.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n${body.slice(0, size)}`);
  });
  const pool = newPool(t, up.port);
  const seen = new Set<ArrayBufferLike>();
  let reused = 0;
  const kept: [Buffer, Buffer][] = [];
  let copied = 0;
  await new Promise<void>((resolve, reject) => {
    pool.dispatch(get('/big'), {
      onResponseData(_c, chunk) {
        if (seen.has(chunk.buffer)) reused++;
        seen.add(chunk.buffer);
        copied += chunk.length;
        // every other chunk is kept as delivered; the rest are given back for later reads
        if (kept.length * 2 <= seen.size) kept.push([chunk, Buffer.from(chunk)]);
        else recycle(chunk);
      },
      onResponseEnd: () => resolve(),
      onResponseError: (_c, err) => reject(err),
    });
  });
  assert.equal(copied, size);
  assert.ok(reused > 0, 'a recycled buffer took a later read');
  assert.ok(kept.length > 2);
  for (const [chunk, copy] of kept) assert.ok(chunk.equals(copy), 'a kept chunk still holds its own bytes');

  // A buffer that did not come from a read is never taken into the free list, even at a read buffer's size.
  const foreign = Buffer.allocUnsafeSlow(64 * 1024).fill(0x5a);
  recycle(foreign);
  await new Promise<void>((resolve, reject) => {
    pool.dispatch(get('/again'), {
      onResponseData(_c, chunk) { assert.notEqual(chunk.buffer, foreign.buffer); },
      onResponseEnd: () => resolve(),
      onResponseError: (_c, err) => reject(err),
    });
  });
  assert.ok(foreign.every((b) => b === 0x5a));
});

test('abort destroys the connection and reports onResponseError once, never after the end', async (t) => {
  const up = await rawUpstream(t, (c) => c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  const pool = newPool(t, up.port);
  const r = new Recorder();
  const reason = new Error('client went away');
  r.onChunk = (c) => { c.abort(reason); c.abort(new Error('again')); };
  pool.dispatch(get(), r);
  await r.done;
  assert.deepEqual(r.events, ['request', 'start', 'error']);
  assert.equal(r.error, reason);
  assert.equal(r.controller!.aborted, true);
  assert.equal(r.controller!.reason, reason);
  await eventually(() => up.conns[0].socket.readableEnded || up.conns[0].socket.destroyed);
  await eventually(() => pool.size === 0);

  const ok = await rawUpstream(t, (c) => c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  const pool2 = newPool(t, ok.port);
  const done = await send(pool2);
  done.controller!.abort(new Error('late'));
  assert.deepEqual(done.events, ['request', 'start', 'end']);
  assert.equal(pool2.idleCount, 1, 'a late abort does not touch the idle connection');

  // The kept-alive connection serves the next request: the first request's controller cannot reach it.
  let secondSeen = false;
  const slow = await rawUpstream(t, (c, _head, index) => {
    if (index === 0) c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    else secondSeen = true;
  });
  const pool3 = newPool(t, slow.port);
  const first = await send(pool3);
  const second = new Recorder();
  pool3.dispatch(get('/second'), second);
  await eventually(() => secondSeen);
  first.controller!.pause();
  first.controller!.abort(new Error('late'));
  assert.equal(first.controller!.aborted, false);
  assert.notEqual(second.controller, first.controller);
  slow.conns[0].socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  await second.done;
  assert.deepEqual(second.events, ['request', 'start', 'end']);
  assert.equal(second.body, 'ok');
  assert.equal(slow.conns.length, 1, 'one connection served both');
});

test('close lets in-flight requests finish; dispatch after close fails; destroy fails in-flight requests', async (t) => {
  let answer: (() => void) | null = null;
  const up = await rawUpstream(t, (c) => { answer = () => c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'); });
  const pool = newPool(t, up.port);
  const r = new Recorder();
  pool.dispatch(get(), r);
  await eventually(() => answer !== null);
  const closed = pool.close();
  const late = await send(pool);
  assert.equal((late.error as NodeJS.ErrnoException).code, UPSTREAM_POOL_CLOSED);
  assert.equal(classify(late.error!), 'connect');
  answer!();
  await r.done;
  assert.equal(r.body, 'ok');
  await closed;
  assert.equal(pool.size, 0);

  const pool2 = newPool(t, up.port);
  const inflight = new Recorder();
  pool2.dispatch(get(), inflight);
  await eventually(() => up.conns.length === 2);
  await pool2.destroy();
  assert.deepEqual(inflight.events, ['request', 'error']);
  assert.equal(pool2.size, 0);
});
