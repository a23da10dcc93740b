/**
 * Ferry's HTTP/1.1 server side on raw sockets, byte by byte: pipelining, keep-alive, HTTP/1.0,
 * request and response framing, 100-continue, timeouts, per-connection request limits, malformed and
 * smuggled requests, and clients that go away mid-body.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ProxyLimits } from '../../src/proxy/index.ts';
import type { RequestRecord } from '../../src/snapshot/index.ts';
import { WebSocketServer } from 'ws';
import { eventually } from '../support/eventually.ts';
import { buildSnapshot, echoUpstream, endpoints, recordRequests, startProxy, type Seen } from './proxy-harness.ts';

interface Res {
  status: number;
  /** Lower-cased names; repeated fields joined with ', '. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Splits what a client received into responses. `noBody[i]` marks the i-th final response as one
 * without a body (a HEAD answer); 1xx responses are returned too. Stops at an incomplete response;
 * a response without Content-Length or chunked framing runs to the end of the bytes (close-delimited).
 */
function parseResponses(text: string, noBody: boolean[] = []): Res[] {
  const out: Res[] = [];
  let pos = 0;
  let finals = 0;
  while (pos < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) break;
    const lines = text.slice(pos, headEnd).split('\r\n');
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]);
    assert.ok(m, `bad status line ${JSON.stringify(lines[0])}`);
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let at = headEnd + 4;
    let body = '';
    const bodiless = status < 200 || status === 204 || status === 304 || noBody[finals] === true;
    if (!bodiless) {
      if (headers['content-length'] !== undefined) {
        const n = Number(headers['content-length']);
        if (text.length < at + n) break;
        body = text.slice(at, at + n);
        at += n;
      } else if (headers['transfer-encoding'] === 'chunked') {
        let complete = false;
        for (;;) {
          const lineEnd = text.indexOf('\r\n', at);
          if (lineEnd < 0) break;
          const size = parseInt(text.slice(at, lineEnd), 16);
          if (size === 0) {
            const end = text.indexOf('\r\n\r\n', lineEnd);
            const trailerEnd = text.startsWith('\r\n', lineEnd + 2) ? lineEnd + 4 : end < 0 ? -1 : end + 4;
            if (trailerEnd < 0) break;
            at = trailerEnd;
            complete = true;
            break;
          }
          if (text.length < lineEnd + 2 + size + 2) break;
          body += text.slice(lineEnd + 2, lineEnd + 2 + size);
          at = lineEnd + 2 + size + 2;
        }
        if (!complete) break;
      } else {
        body = text.slice(at);
        at = text.length;
      }
    }
    if (status >= 200) finals++;
    out.push({ status, headers, body });
    pos = at;
  }
  return out;
}

/** A raw TCP client: sends exact bytes, keeps everything received, knows when the proxy closed. */
class RawClient {
  readonly socket: net.Socket;
  data = '';
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => { this.data += d.toString('latin1'); });
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => {});
  }

  static async open(t: TestContext, port: number): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    const c = new RawClient(socket);
    t.after(() => socket.destroy());
    return c;
  }

  send(bytes: string): void {
    this.socket.write(bytes, 'latin1');
  }

  responses(noBody: boolean[] = []): Res[] {
    return parseResponses(this.data, noBody);
  }

  /** Waits until `n` responses (1xx included) have arrived completely. */
  async waitResponses(n: number, noBody: boolean[] = []): Promise<Res[]> {
    return eventually(() => {
      const r = this.responses(noBody);
      assert.ok(r.length >= n, `${r.length} of ${n} responses in ${JSON.stringify(this.data)}`);
      return r;
    });
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    await eventually(() => this.closed, { timeoutMs, message: 'proxy did not close the connection' });
  }
}

async function proxyTo(t: TestContext, upstreamPort: number, limits?: ProxyLimits): Promise<number> {
  const { port } = await startProxy(t, buildSnapshot({ routes: [{ path: { type: 'PathPrefix', value: '/' } }] }), endpoints({ b: [upstreamPort] }), { limits });
  return port;
}

/** An upstream answering `<method> <url> <body>`, and recording what it saw and how many requests overlapped. */
async function describingUpstream(t: TestContext, delay: (url: string) => number = () => 0) {
  let active = 0;
  const state = { maxActive: 0 };
  const up = await echoUpstream(t, (req, res, body) => {
    active++;
    state.maxActive = Math.max(state.maxActive, active);
    const answer = () => { active--; res.setHeader('content-type', 'text/plain'); res.end(`${req.method} ${req.url} ${body}`); };
    const ms = delay(req.url!);
    if (ms > 0) setTimeout(answer, ms); else answer();
  });
  return { up, state };
}

test('pipelined requests are answered in order, one at a time', async (t) => {
  const { up, state } = await describingUpstream(t, (url) => (url === '/p/1' ? 50 : 0));
  const port = await proxyTo(t, up.port);
  const c = await RawClient.open(t, port);
  c.send(
    'GET /p/1 HTTP/1.1\r\nHost: h\r\n\r\n' +
    'POST /p/2 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello' +
    'GET /p/3 HTTP/1.1\r\nHost: h\r\n\r\n',
  );
  const r = await c.waitResponses(3);
  assert.deepEqual(r.map((x) => x.body), ['GET /p/1 ', 'POST /p/2 hello', 'GET /p/3 ']);
  assert.deepEqual(up.seen.map((s) => s.url), ['/p/1', '/p/2', '/p/3']);
  assert.equal(state.maxActive, 1);
  assert.equal(c.closed, false);
});

test('keep-alive: several requests on one connection, with date and no connection header', async (t) => {
  const up = await echoUpstream(t, (_req, res) => { res.sendDate = false; res.end('ok'); });
  const port = await proxyTo(t, up.port);
  const c = await RawClient.open(t, port);
  for (let i = 1; i <= 3; i++) {
    c.send(`GET /k/${i} HTTP/1.1\r\nHost: h\r\n\r\n`);
    const r = await c.waitResponses(i);
    assert.equal(r[i - 1].status, 200);
    assert.equal(r[i - 1].body, 'ok');
    assert.equal(r[i - 1].headers.connection, undefined);
    assert.match(r[i - 1].headers.date, /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  }
  assert.equal(c.closed, false);
  assert.equal(up.seen.length, 3);
});

test('a client that half-closes after its request (shutdown of its sending side) still gets the response', async (t) => {
  let release: () => void = () => {};
  const answered = new Promise<void>((resolve) => { release = resolve; });
  const up = await echoUpstream(t, (_req, res) => { void answered.then(() => res.end('late')); });
  const port = await proxyTo(t, up.port);
  const c = await RawClient.open(t, port);
  c.send('GET /half HTTP/1.1\r\nHost: h\r\n\r\n');
  c.socket.end();
  await eventually(() => assert.equal(up.seen.length, 1));
  release();
  const [r] = await c.waitResponses(1);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'late');
  await c.waitClosed();
});

test('an idle keep-alive connection the client shuts down is closed at once, not at the keep-alive timeout', async (t) => {
  const up = await echoUpstream(t, (_req, res) => res.end('ok'));
  const port = await proxyTo(t, up.port, { keepAliveTimeoutMs: 60_000 });
  const c = await RawClient.open(t, port);
  c.send('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  await c.waitResponses(1);
  c.socket.end();
  await c.waitClosed(2_000);
});

/**
 * A client that keeps its sending side open after the proxy's FIN, to tell the two ways Ferry closes
 * apart: a socket closed at once answers what arrives next with a reset (the client's next write
 * fails), a lingering one reads and discards it and closes cleanly once the client ends.
 */
class HalfOpenClient {
  readonly socket: net.Socket;
  data = '';
  error: string | null = null;
  readonly #ended: Promise<void>;
  readonly #closed: Promise<boolean>;

  constructor(t: TestContext, port: number) {
    this.socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    this.socket.on('data', (d: Buffer) => { this.data += d.toString('latin1'); });
    this.socket.on('error', (e: NodeJS.ErrnoException) => { this.error ??= e.code ?? e.message; });
    this.#ended = new Promise((resolve) => this.socket.once('end', resolve));
    this.#closed = new Promise((resolve) => this.socket.once('close', resolve));
    t.after(() => this.socket.destroy());
  }

  /**
   * Sends `request`, waits for the proxy's FIN, then writes until a write fails: within 500 ms, well
   * before a lingering close gives up on the client (1–2 s) and would reset too.
   */
  async expectResetAfterFin(request: string): Promise<void> {
    this.socket.write(request);
    await this.#ended;
    await eventually(() => {
      this.socket.write('GET /late HTTP/1.1\r\nHost: h\r\n\r\n');
      return this.error !== null;
    }, { timeoutMs: 500, message: 'writes after the FIN were not refused' });
    assert.match(this.error!, /^(EPIPE|ECONNRESET)$/);
  }

  /** Sends `request`, waits for the proxy's FIN, writes more, ends, and expects a clean close. */
  async expectLingerAfterFin(request: string): Promise<void> {
    this.socket.write(request);
    await this.#ended;
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => this.socket.write('GET /late HTTP/1.1\r\nHost: h\r\n\r\n', () => resolve()));
    this.socket.end();
    const hadError = await this.#closed;
    assert.equal(this.error, null);
    assert.equal(hadError, false);
  }
}

test('Connection: close: the whole response, small or larger than the socket takes at once, then the connection ends; a request pipelined behind it is not served', async (t) => {
  const big = 'b'.repeat(4 << 20);
  const up = await echoUpstream(t, (req, res) => res.end(req.url === '/big' ? big : 'small'));
  const port = await proxyTo(t, up.port);
  for (const path of ['/small', '/big']) {
    const c = await RawClient.open(t, port);
    c.send(`GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`);
    await c.waitClosed();
    const [r] = c.responses();
    assert.equal(r.status, 200);
    assert.equal(r.headers.connection, 'close');
    assert.equal(r.body.length, path === '/big' ? big.length : 5);
  }
  const piped = await RawClient.open(t, port);
  piped.send('GET /small HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n');
  await piped.waitClosed();
  const answers = piped.responses();
  assert.equal(answers.length, 1);
  assert.equal(answers[0].body, 'small');
  assert.deepEqual(up.seen.map((s) => s.url), ['/small', '/big', '/small']);
});

test('after the last response Ferry closes at once only when the client said it sends nothing more and nothing of it is unread; otherwise it lingers', async (t) => {
  const up = await echoUpstream(t, (req, res) => res.end(req.url));
  const port = await proxyTo(t, up.port, { maxRequestsPerSocket: 1 });
  const said = new HalfOpenClient(t, port);
  await said.expectResetAfterFin('GET /said HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
  assert.match(said.data, /\r\n\r\n\/said$/);
  // Ferry decides to close (the request limit) on a keep-alive request: the client may still be sending.
  const limited = new HalfOpenClient(t, port);
  await limited.expectLingerAfterFin('GET /limited HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.match(limited.data, /\r\n\r\n\/limited$/);
  // The client said close but pipelined more: those bytes are unread, so closing now would reset.
  const piped = new HalfOpenClient(t, port);
  await piped.expectLingerAfterFin('GET /piped HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.match(piped.data, /\r\n\r\n\/piped$/);
  assert.deepEqual(up.seen.map((s) => s.url), ['/said', '/limited', '/piped']);
});

test('HTTP/1.0: closed after the response unless keep-alive was asked; close-delimited body without Content-Length', async (t) => {
  const up = await echoUpstream(t, (req, res) => {
    if (req.url === '/stream') { res.write('ab'); res.end('cd'); return; }
    res.end('ten bytes!');
  });
  const port = await proxyTo(t, up.port);

  const plain = await RawClient.open(t, port);
  plain.send('GET /a HTTP/1.0\r\nHost: h\r\n\r\n');
  await plain.waitClosed();
  const [r1] = plain.responses();
  assert.equal(r1.status, 200);
  assert.equal(r1.headers.connection, 'close');
  assert.equal(r1.body, 'ten bytes!');

  const kept = await RawClient.open(t, port);
  kept.send('GET /b HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n');
  const [r2] = await kept.waitResponses(1);
  assert.equal(r2.headers.connection, 'keep-alive');
  assert.equal(r2.headers['content-length'], '10');
  kept.send('GET /c HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n');
  const both = await kept.waitResponses(2);
  assert.equal(both[1].body, 'ten bytes!');
  assert.equal(kept.closed, false);

  const streamed = await RawClient.open(t, port);
  streamed.send('GET /stream HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n');
  await streamed.waitClosed();
  const [r3] = streamed.responses();
  assert.equal(r3.headers['transfer-encoding'], undefined);
  assert.equal(r3.headers['content-length'], undefined);
  assert.equal(r3.headers.connection, 'close');
  assert.equal(r3.body, 'abcd');
});

test('a chunked request body reaches the upstream intact; a response without Content-Length is sent chunked', async (t) => {
  const up = await echoUpstream(t, (req, res, body) => {
    if (req.url === '/stream') { res.write('hello '); setImmediate(() => res.end('world')); return; }
    res.end(`${body.length}:${body}`);
  });
  const port = await proxyTo(t, up.port);
  const c = await RawClient.open(t, port);
  c.send('POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel');
  c.send('lo\r\n6;ext=1\r\n world\r\n');
  c.send('0\r\nx-trailer: t\r\n\r\n');
  const [r] = await c.waitResponses(1);
  assert.equal(r.body, '11:hello world');
  assert.equal(up.seen[0].body, 'hello world');

  c.send('GET /stream HTTP/1.1\r\nHost: h\r\n\r\n');
  const [, s] = await c.waitResponses(2);
  assert.equal(s.headers['transfer-encoding'], 'chunked');
  assert.equal(s.headers['content-length'], undefined);
  assert.equal(s.body, 'hello world');
  assert.ok(c.data.endsWith('0\r\n\r\n'));
  assert.equal(c.closed, false);
});

test('HEAD gets no body and 204 no framing; the next pipelined response is read right after them', async (t) => {
  const up = await echoUpstream(t, (req, res) => {
    if (req.url === '/empty') { res.statusCode = 204; res.end(); return; }
    res.setHeader('content-length', '11');
    res.end(req.method === 'HEAD' ? undefined : 'hello there');
  });
  const port = await proxyTo(t, up.port);
  const c = await RawClient.open(t, port);
  c.send('HEAD /h HTTP/1.1\r\nHost: h\r\n\r\nGET /empty HTTP/1.1\r\nHost: h\r\n\r\nGET /g HTTP/1.1\r\nHost: h\r\n\r\n');
  const r = await c.waitResponses(3, [true]);
  assert.equal(r[0].status, 200);
  assert.equal(r[0].headers['content-length'], '11');
  assert.equal(r[0].body, '');
  assert.equal(r[1].status, 204);
  assert.equal(r[1].headers['content-length'], undefined);
  assert.equal(r[1].headers['transfer-encoding'], undefined);
  assert.equal(r[2].body, 'hello there');
  assert.equal(parseResponses(c.data, [true]).length, 3);
  // Nothing after the third response: HEAD and 204 carried no body bytes.
  assert.ok(c.data.endsWith('hello there'));

  const local = await RawClient.open(t, port);
  local.send('HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n');
  await local.waitResponses(1, [true]);
  assert.ok(local.data.endsWith('\r\n\r\n'));
});

test('Expect: 100-continue gets 100 Continue, then the response once the body is sent', async (t) => {
  const up = await echoUpstream(t, (_req, res, body) => res.end(`got ${body}`));
  const port = await proxyTo(t, up.port);
  const c = await RawClient.open(t, port);
  c.send('PUT /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
  const [cont] = await c.waitResponses(1);
  assert.equal(cont.status, 100);
  assert.equal(up.seen.length, 0);
  c.send('data');
  const [, r] = await c.waitResponses(2);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'got data');
  assert.equal(up.seen[0].headers.expect, undefined);
});

test('headers timeout: a head that does not arrive in time gets 408 and the connection closes', async (t) => {
  const up = await echoUpstream(t);
  const port = await proxyTo(t, up.port, { headersTimeoutMs: 200 });
  const c = await RawClient.open(t, port);
  c.send('GET / HTTP/1.1\r\nHost: h\r\n');
  await c.waitClosed();
  assert.match(c.data, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  assert.match(c.data, /connection: close/);
  assert.equal(up.seen.length, 0);
});

test('a request whose first bytes could open the HTTP/2 preface is served as HTTP/1.1 once a byte differs', async (t) => {
  const { up } = await describingUpstream(t);
  const port = await proxyTo(t, up.port);
  const c = await RawClient.open(t, port);
  c.send('PR');
  await new Promise<void>((resolve) => c.socket.write('', () => resolve()));
  c.send('OPFIND /dav HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n');
  const [r] = await c.waitResponses(1);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'PROPFIND /dav ');
});

test('a connection that sends part of the HTTP/2 preface and stops gets 408 at the headers timeout; one that ends there is closed', async (t) => {
  const up = await echoUpstream(t);
  const port = await proxyTo(t, up.port, { headersTimeoutMs: 200 });
  const stalled = await RawClient.open(t, port);
  stalled.send('PRI * HTTP/2.0\r\n\r\n');
  await stalled.waitClosed();
  assert.match(stalled.data, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  const ended = await RawClient.open(t, port);
  ended.send('PRI * HT');
  ended.socket.end();
  await ended.waitClosed();
  assert.equal(ended.data, '');
  assert.equal(up.seen.length, 0);
});

test('request timeout: a body that does not arrive in time gets 408', async (t) => {
  const up = await echoUpstream(t);
  const port = await proxyTo(t, up.port, { requestTimeoutMs: 300 });
  const c = await RawClient.open(t, port);
  c.send('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc');
  await c.waitClosed();
  assert.match(c.data, /^HTTP\/1\.1 408 /);
  assert.equal(up.seen.length, 0);
});

test('keep-alive timeout: an idle connection is closed quietly', async (t) => {
  const up = await echoUpstream(t);
  const port = await proxyTo(t, up.port, { keepAliveTimeoutMs: 200 });
  const c = await RawClient.open(t, port);
  c.send('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  await c.waitResponses(1);
  const before = c.data.length;
  await c.waitClosed();
  assert.equal(c.data.length, before);
  assert.equal(c.responses()[0].headers.connection, undefined);
});

test('maxRequestsPerSocket: the last allowed response says connection: close and the connection ends', async (t) => {
  const up = await echoUpstream(t, (req, res) => res.end(req.url));
  const port = await proxyTo(t, up.port, { maxRequestsPerSocket: 3 });
  const c = await RawClient.open(t, port);
  c.send('GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n');
  const two = await c.waitResponses(2);
  assert.equal(two[1].headers.connection, undefined);
  c.send('GET /3 HTTP/1.1\r\nHost: h\r\n\r\nGET /4 HTTP/1.1\r\nHost: h\r\n\r\n');
  await c.waitClosed();
  const r = c.responses();
  assert.deepEqual(r.map((x) => x.body), ['/1', '/2', '/3']);
  assert.equal(r[2].headers.connection, 'close');
  assert.deepEqual(up.seen.map((s) => s.url), ['/1', '/2', '/3']);
});

test('malformed heads get 400 and close; the upstream sees nothing', async (t) => {
  const up = await echoUpstream(t);
  const port = await proxyTo(t, up.port);
  const cases: [string, string, number][] = [
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: h\r\nX-Folded: a\r\n b\r\n\r\n', 400],
    ['bare LF', 'GET / HTTP/1.1\nHost: h\n\n', 400],
    ['space before colon', 'GET / HTTP/1.1\r\nHost : h\r\n\r\n', 400],
    ['two Content-Lengths', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400],
    ['unknown transfer coding', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
    ['HTTP/2.0 in a request line', 'GET / HTTP/2.0\r\nHost: h\r\n\r\n', 505],
  ];
  for (const [name, bytes, status] of cases) {
    const c = await RawClient.open(t, port);
    c.send(bytes);
    await c.waitClosed();
    assert.match(c.data, new RegExp(`^HTTP/1\\.1 ${status} `), name);
    const [r] = c.responses();
    assert.equal(r.headers.connection, 'close', name);
    assert.equal(r.headers['content-length'], '0', name);
  }
  const missingHost = await RawClient.open(t, port);
  missingHost.send('GET / HTTP/1.1\r\n\r\n');
  const [mh] = await missingHost.waitResponses(1);
  assert.equal(mh.status, 400);
  assert.equal(up.seen.length, 0);
});

test('a request smuggled inside a body never reaches the upstream as a request of its own', async (t) => {
  const { up } = await describingUpstream(t);
  const port = await proxyTo(t, up.port);
  const inner = 'GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n';

  // CL.TE: both framings at once is refused outright.
  const clte = await RawClient.open(t, port);
  clte.send(`POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: ${5 + inner.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${inner}`);
  await clte.waitClosed();
  assert.match(clte.data, /^HTTP\/1\.1 400 /);

  // A Content-Length body that looks like a request is a body.
  const cl = await RawClient.open(t, port);
  cl.send(`POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: ${inner.length}\r\n\r\n${inner}GET /after HTTP/1.1\r\nHost: h\r\n\r\n`);
  const clr = await cl.waitResponses(2);
  assert.equal(clr[0].body, `POST /a ${inner}`);
  assert.equal(clr[1].body, 'GET /after ');

  // TE.CL: chunk data that looks like a request is a body, whatever a Content-Length would say.
  const tecl = await RawClient.open(t, port);
  tecl.send(`POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n`);
  const ter = await tecl.waitResponses(2);
  assert.equal(ter[0].body, `POST /b ${inner}`);
  assert.equal(ter[1].body, 'GET /after ');

  // A chunk size that lies about its data is a framing error, not a new request.
  const lying = await RawClient.open(t, port);
  lying.send(`POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc${inner}`);
  await lying.waitClosed();

  assert.deepEqual(up.seen.map((s) => s.url).filter((u) => u !== '/c'), ['/a', '/after', '/b', '/after']);
});

test('a response started before the request body was read closes the connection', async (t) => {
  const up = await echoUpstream(t);
  const { port } = await startProxy(t, buildSnapshot({ routes: [{ path: { type: 'PathPrefix', value: '/only' } }] }), endpoints({ b: [up.port] }));
  const c = await RawClient.open(t, port);
  c.send('POST /nothing HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc');
  await c.waitClosed();
  const [r] = c.responses();
  assert.equal(r.status, 404);
  assert.equal(r.headers.connection, 'close');
});

test('a client closing mid-body: the upstream attempt is aborted and the proxy keeps serving', async (t) => {
  const upstreamReq = { started: false, aborted: false };
  const server = http.createServer((req, res) => {
    if (req.url !== '/upload') { res.end('fine'); return; }
    upstreamReq.started = true;
    req.on('data', () => {});
    req.on('close', () => { if (!req.complete) upstreamReq.aborted = true; });
    req.on('end', () => res.end('complete'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => { server.closeAllConnections(); server.close(); });
  const records = recordRequests(t);
  const port = await proxyTo(t, (server.address() as AddressInfo).port);
  const c = await RawClient.open(t, port);
  c.send(`POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\n\r\n${'x'.repeat(100_000)}`);
  await eventually(() => upstreamReq.started);
  c.socket.destroy();
  await eventually(() => upstreamReq.aborted);
  const rec = await eventually(() => records.find((r) => r.path === '/upload') ?? false) as RequestRecord;
  assert.equal(rec.error, 'client_aborted');
  const again = await RawClient.open(t, port);
  again.send('GET /ok HTTP/1.1\r\nHost: h\r\n\r\n');
  const [r] = await again.waitResponses(1);
  assert.equal(r.body, 'fine');
});

test('an Upgrade other than websocket is served as a plain request and the connection goes on', async (t) => {
  const up = await echoUpstream(t);
  const port = await proxyTo(t, up.port);
  const c = await RawClient.open(t, port);
  c.send('GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n');
  const r = await c.waitResponses(2);
  assert.deepEqual(r.map((x) => (JSON.parse(x.body) as Seen).url), ['/ws', '/next']);
  assert.equal(up.seen[0].headers.upgrade, undefined);
});

test('a pipelining client that reads its answers late gets all of them, whole and in order', async (t) => {
  // About 10 MB of answers: more than the socket buffers hold, so the proxy has to wait for the client.
  const n = 300;
  const big = 'z'.repeat(32 * 1024);
  const up = await echoUpstream(t, (req, res) => res.end(`${req.url}:${big}`));
  const port = await proxyTo(t, up.port);
  const c = await RawClient.open(t, port);
  c.socket.pause();
  let requests = '';
  for (let i = 0; i < n; i++) requests += `GET /big/${i} HTTP/1.1\r\nHost: h\r\n\r\n`;
  c.send(requests);
  await eventually(() => up.seen.length >= 1);
  c.socket.resume();
  const r = await c.waitResponses(n);
  assert.deepEqual(r.map((x) => x.body), Array.from({ length: n }, (_, i) => `/big/${i}:${big}`));
  assert.equal(c.closed, false);
});

test('a WebSocket handshake with a frame right behind it in the same packet: the frame goes through the tunnel', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  t.after(() => { for (const ws of wss.clients) ws.terminate(); wss.close(); });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m}`)));
  const port = await proxyTo(t, (wss.address() as AddressInfo).port);
  const c = await RawClient.open(t, port);
  // A masked text frame "hi" (mask 0x01020304).
  const mask = [1, 2, 3, 4];
  const frame = String.fromCharCode(0x81, 0x80 | 2, ...mask, ...[...'hi'].map((ch, i) => ch.charCodeAt(0) ^ mask[i]));
  c.send('GET /chat HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\nSec-WebSocket-Version: 13\r\n' +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n${frame}`);
  await eventually(() => c.data.includes('echo:hi'));
  assert.match(c.data, /^HTTP\/1\.1 101 /);
  assert.match(c.data, /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
  assert.ok(c.data.endsWith(`${String.fromCharCode(0x81, 7)}echo:hi`));
});
