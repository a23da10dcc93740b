import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { buildSnapshot, echoUpstream, endpoints, rawRequest, request, startProxy, type Seen } from './proxy-harness.ts';

test('HTTP/1.1 keep-alive proxying reuses client and upstream connections', async (t) => {
  const up = await echoUpstream(t);
  const upstreamSockets = new Set<unknown>();
  up.server.on('connection', (s) => upstreamSockets.add(s));
  const { port } = await startProxy(t, buildSnapshot({ routes: [{ path: { type: 'PathPrefix', value: '/' } }] }), endpoints({ b: [up.port] }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const clientSockets = new Set<unknown>();
  for (let i = 0; i < 20; i++) {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.get({ port, host: '127.0.0.1', path: `/x/${i}?q=${i}`, agent }, resolve);
      req.on('socket', (s) => clientSockets.add(s));
      req.on('error', reject);
    });
    let body = '';
    for await (const c of res) body += c;
    assert.equal(res.statusCode, 200);
    assert.equal((JSON.parse(body) as Seen).url, `/x/${i}?q=${i}`);
  }
  assert.equal(clientSockets.size, 1);
  assert.equal(upstreamSockets.size, 1);
});

test('request and response bodies stream through both ways', async (t) => {
  const up = await echoUpstream(t, (req, res, body) => { res.setHeader('x-len', String(body.length)); res.end(body.toUpperCase()); });
  const { port } = await startProxy(t, buildSnapshot({ routes: [{}] }), endpoints({ b: [up.port] }));
  const big = 'abc'.repeat(200_000);
  const res = await request(port, { method: 'POST', path: '/upload', body: big, headers: { 'content-type': 'text/plain' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-len'], String(big.length));
  assert.equal(res.body, big.toUpperCase());
  const chunked = await new Promise<string>((resolve, reject) => {
    const req = http.request({ port, host: '127.0.0.1', method: 'PUT', path: '/c' }, (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => resolve(b)); });
    req.on('error', reject);
    req.write('one-');
    req.write('two');
    req.end();
  });
  assert.equal(chunked, 'ONE-TWO');
});

test('forwarding hygiene: hop-by-hop, Connection-named headers, XFF, request id, Via, underscores', async (t) => {
  const up = await echoUpstream(t);
  const { port } = await startProxy(t, buildSnapshot({ routes: [{}], listenerPort: 8443 }), endpoints({ b: [up.port] }));
  const res = await request(port, {
    path: '/h',
    headers: {
      host: 'Api.Example.COM.:9999',
      connection: 'keep-alive, x-forwarded-for, x-drop-me, x-request-id, via, host',
      'x-drop-me': '1',
      'keep-alive': 'timeout=5',
      'proxy-authorization': 'secret',
      te: 'trailers, deflate',
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-host': 'evil',
      'x-forwarded-proto': 'https',
      forwarded: 'for=6.6.6.6',
      x_forwarded_for: '7.7.7.7',
      'x-keep': 'yes',
      via: '1.0 upstream-proxy',
      'x-request-id': 'abc-123',
    },
  });
  assert.equal(res.status, 200);
  const seen = JSON.parse(res.body) as Seen;
  const h = seen.headers;
  assert.equal(h['x-drop-me'], undefined);
  assert.equal(h['keep-alive'], undefined);
  assert.equal(h['proxy-authorization'], undefined);
  assert.equal(h.te, 'trailers');
  assert.equal(h['x-forwarded-for'], '127.0.0.1');
  assert.equal(h['x-forwarded-host'], 'Api.Example.COM.:9999');
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.equal(h['x-forwarded-port'], '8443');
  assert.equal(h.forwarded, undefined);
  assert.equal(h.x_forwarded_for, undefined);
  assert.equal(h['x-keep'], 'yes');
  assert.equal(h.via, '1.0 upstream-proxy, 1.1 ferry');
  assert.equal(h['x-request-id'], 'abc-123');
  assert.equal(h.host, 'Api.Example.COM.:9999');
  assert.equal(res.headers['x-request-id'], 'abc-123');
  assert.equal(seen.rawHeaders.filter((n, i) => i % 2 === 0 && n.toLowerCase() === 'x-forwarded-for').length, 1);

  const generated = await request(port, { headers: { 'x-request-id': 'bad id with spaces' } });
  const gid = (JSON.parse(generated.body) as Seen).headers['x-request-id'];
  assert.match(String(gid), /^[0-9a-f-]{36}$/);
  assert.equal(generated.headers['x-request-id'], gid);
});

test('response hop-by-hop headers are removed and upstream x-request-id replaced', async (t) => {
  const up = await echoUpstream(t, (_req, res) => {
    res.setHeader('connection', 'x-secret');
    res.setHeader('x-secret', 'no');
    res.setHeader('x-request-id', 'upstream');
    res.setHeader('x-ok', 'yes');
    res.end('ok');
  });
  const { port } = await startProxy(t, buildSnapshot({ routes: [{}] }), endpoints({ b: [up.port] }));
  const res = await request(port, { headers: { 'x-request-id': 'mine' } });
  assert.equal(res.headers['x-secret'], undefined);
  assert.equal(res.headers['x-ok'], 'yes');
  assert.equal(res.headers['x-request-id'], 'mine');
});

test('framing and limits: duplicate Host 400, TE on HTTP/1.0 400, oversized headers 431, too many headers 431', async (t) => {
  const up = await echoUpstream(t);
  const { port } = await startProxy(t, buildSnapshot({ routes: [{}] }), endpoints({ b: [up.port] }));
  const dup = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', /duplicate/);
  assert.match(dup, /^HTTP\/1\.1 400/);
  const te10 = await rawRequest(port, 'POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  assert.match(te10, /^HTTP\/1\.1 400/);
  const big = await request(port, { headers: { 'x-big': 'x'.repeat(20_000) }, agent: false });
  assert.equal(big.status, 431);
  const many: Record<string, string> = {};
  for (let i = 0; i < 120; i++) many[`x-h${i}`] = 'v';
  const tooMany = await request(port, { headers: many, agent: false });
  assert.equal(tooMany.status, 431);
  assert.equal(up.seen.length, 0);
});

test('error mapping: no route 404, no endpoints 503, refused 502, invalid backendRef 500, no backends 500', async (t) => {
  const up = await echoUpstream(t);
  const closed = await echoUpstream(t);
  closed.server.close();
  closed.server.closeAllConnections();
  const snap = buildSnapshot({
    backends: { b: 'http1', empty: 'http1', dead: 'http1' },
    routes: [
      { path: { type: 'PathPrefix', value: '/ok' } },
      { path: { type: 'PathPrefix', value: '/empty' }, backends: [{ id: 'empty' }] },
      { path: { type: 'PathPrefix', value: '/dead' }, backends: [{ id: 'dead' }] },
      { path: { type: 'PathPrefix', value: '/invalid' }, backends: [{ id: null, invalidReason: 'Service default/missing not found' }] },
      { path: { type: 'PathPrefix', value: '/none' }, backends: [] },
      { path: { type: 'PathPrefix', value: '/zero' }, backends: [{ id: 'b', weight: 0 }] },
    ],
  });
  const { port } = await startProxy(t, snap, endpoints({ b: [up.port], empty: [], dead: [closed.port] }));
  assert.equal((await request(port, { path: '/ok' })).status, 200);
  const nf = await request(port, { path: '/nothing' });
  assert.equal(nf.status, 404);
  assert.match(nf.body, /no route/);
  const e = await request(port, { path: '/empty' });
  assert.equal(e.status, 503);
  assert.match(e.body, /no healthy upstream/);
  const d = await request(port, { path: '/dead' });
  assert.equal(d.status, 502);
  assert.match(d.body, /upstream connect error/);
  const inv = await request(port, { path: '/invalid' });
  assert.equal(inv.status, 500);
  assert.match(inv.body, /invalid backendRef: Service default\/missing not found/);
  assert.equal((await request(port, { path: '/none' })).status, 500);
  assert.equal((await request(port, { path: '/zero' })).status, 500);
});

test('Upgrade: h2c from a client is not honoured; the request is served over HTTP/1.1', async (t) => {
  const up = await echoUpstream(t);
  const { port } = await startProxy(t, buildSnapshot({ routes: [{}] }), endpoints({ b: [up.port] }));
  const res = await request(port, { headers: { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAAQAAP__' }, agent: false });
  assert.equal(res.status, 200);
  const seen = JSON.parse(res.body) as Seen;
  assert.equal(seen.headers.upgrade, undefined);
  assert.equal(seen.headers['http2-settings'], undefined);
});

test('observability: one RequestRecord per request and upstream connect events', async (t) => {
  const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
  const up = await echoUpstream(t, (_q, res, body) => res.end(`got ${body.length}`));
  const records: import('../../src/snapshot/index.ts').RequestRecord[] = [];
  const events: import('../../src/snapshot/index.ts').UpstreamEvent[] = [];
  const onRecord = (r: unknown) => records.push(r as (typeof records)[number]);
  const onEvent = (e: unknown) => events.push(e as (typeof events)[number]);
  subscribe('ferry:request', onRecord);
  subscribe('ferry:upstream', onEvent);
  t.after(() => { unsubscribe('ferry:request', onRecord); unsubscribe('ferry:upstream', onEvent); });
  const { port } = await startProxy(t, buildSnapshot({ routes: [{ path: { type: 'PathPrefix', value: '/r' } }] }), endpoints({ b: [up.port] }));
  const res = await request(port, { method: 'POST', path: '/r/../r/x?q=1', body: 'hello', headers: { host: 'Shop.Example:80' } });
  assert.equal(res.body, 'got 5');
  await request(port, { path: '/none' });
  assert.equal(records.length, 2);
  const [ok, miss] = records;
  assert.equal(ok.route, 'HTTPRoute/default/r0');
  assert.equal(ok.rule, 'HTTPRoute/default/r0/rule/0');
  assert.equal(ok.backend, 'b');
  assert.equal(ok.endpoint, `127.0.0.1:${up.port}`);
  assert.equal(ok.path, '/r/x');
  assert.equal(ok.host, 'shop.example');
  assert.equal(ok.protocol, 'HTTP/1.1');
  assert.equal(ok.status, 200);
  assert.equal(ok.bytesIn, 5);
  assert.equal(ok.bytesOut, 5);
  assert.equal(ok.attempts, 1);
  assert.equal(ok.gateway, 'default/gw');
  assert.equal(ok.listener, 'default/gw/l');
  assert.equal(ok.error, undefined);
  assert.ok(ok.upstreamMs !== null && ok.upstreamMs >= 0);
  // durations come from a monotonic clock with sub-millisecond precision (a loopback hop takes well under 1 ms)
  assert.ok(ok.durationMs >= ok.upstreamMs && !Number.isInteger(ok.durationMs) && !Number.isInteger(ok.upstreamMs), `${ok.durationMs} / ${ok.upstreamMs}`);
  assert.equal(ok.requestId, res.headers['x-request-id']);
  assert.equal(miss.status, 404);
  assert.equal(miss.error, 'no_route');
  assert.equal(miss.route, null);
  assert.ok(events.some((e) => e.type === 'connect' && e.backend === 'b' && e.protocol === 'http1'));
});

/** Body of response `n`: a byte pattern of its own, so a body written over by another response's bytes shows. */
function patterned(n: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (n * 131 + i * 7 + (i >> 9)) & 0xff;
  return b;
}

/** Responses 0..59 are 20 KB to 600 KB; 1000 and up are 6 MB, more than the kernel buffers of a client that does not read. */
const sizeOf = (n: number) => (n >= 1000 ? 6_000_000 + n : 20_000 + n * 9_973);

test('large responses to many clients at once arrive intact, fast and slow readers alike, in every framing', async (t) => {
  // Ferry hands upstream reads to clients whole and reuses their memory once a client socket has taken
  // every byte; a slow client keeps its chunks queued, and they must not be overwritten by later reads.
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    let seen = '';
    socket.on('data', (d) => {
      seen += d.toString('latin1');
      for (let end = seen.indexOf('\r\n\r\n'); end >= 0; end = seen.indexOf('\r\n\r\n')) {
        const [, n, framing] = /^GET \/big\/(\d+)\/(\w+)/.exec(seen)!;
        seen = seen.slice(end + 4);
        const body = patterned(Number(n), sizeOf(Number(n)));
        if (framing === 'length') socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`), body]));
        else if (framing === 'chunked') socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]));
        else socket.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n'), body]));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const upPort = (server.address() as net.AddressInfo).port;
  const { port } = await startProxy(t, buildSnapshot({ routes: [{}] }), endpoints({ b: [upPort] }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 12 });
  t.after(() => agent.destroy());
  let fastDone!: () => void;
  const allFastDone = new Promise<void>((resolve) => { fastDone = resolve; });
  const get = (n: number, framing: string, slow: boolean) => new Promise<Buffer>((resolve, reject) => {
    http.get({ port, host: '127.0.0.1', path: `/big/${n}/${framing}`, agent: slow ? false : agent }, (res) => {
      const parts: Buffer[] = [];
      // A slow client reads nothing until every fast one is done: its bytes queue in Ferry meanwhile.
      if (slow) { res.pause(); void allFastDone.then(() => res.resume()); }
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve(Buffer.concat(parts)));
      res.on('error', reject);
    }).on('error', reject);
  });
  const check = (n: number, framing: string) => (body: Buffer) => {
    const want = patterned(n, sizeOf(n));
    assert.equal(body.length, want.length, `response ${n} (${framing}) length`);
    assert.ok(body.equals(want), `response ${n} (${framing}) bytes`);
  };
  const framings = ['length', 'chunked', 'close'];
  const slow = [1000, 1001, 1002].map((n) => get(n, framings[n % 3], true).then(check(n, framings[n % 3])));
  const fast: Promise<void>[] = [];
  for (let n = 0; n < 60; n++) fast.push(get(n, framings[n % 3], false).then(check(n, framings[n % 3])));
  await Promise.all(fast);
  fastDone();
  await Promise.all(slow);
});

test('a large response whose first read fills the buffer and then stalls is forwarded without waiting for the rest', async (t) => {
  // The first read comes back exactly full (16 KiB), so Ferry expects more at once and holds the bytes
  // for one write with the next read; with nothing more to read, they must still leave in this turn.
  let release!: () => void;
  const rest = new Promise<void>((resolve) => { release = resolve; });
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => {
      const head = 'HTTP/1.1 200 OK\r\ncontent-length: 40000\r\n\r\n';
      const first = 16 * 1024 - head.length;
      socket.write(head + 'a'.repeat(first));
      void rest.then(() => socket.write('b'.repeat(40_000 - first)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = await startProxy(t, buildSnapshot({ routes: [{}] }), endpoints({ b: [(server.address() as net.AddressInfo).port] }));
  const body = await new Promise<string>((resolve, reject) => {
    http.get({ port, host: '127.0.0.1', path: '/stall', agent: false }, (res) => {
      let got = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => {
        got += c;
        if (!got.includes('b')) release(); // the first part arrived before the upstream sent the rest
      });
      res.on('end', () => resolve(got));
      res.on('error', reject);
    }).on('error', reject);
  });
  assert.equal(body.length, 40_000);
  assert.match(body, /^a+b+$/);
});
