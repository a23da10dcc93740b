import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { buildSnapshot, echoUpstream, endpoints, request, startProxy } from './proxy-harness.ts';

/** A TCP server that accepts and never answers. */
async function blackhole(t: import('node:test').TestContext): Promise<{ port: number; accepted: () => number }> {
  let n = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => { n++; sockets.add(s); s.on('error', () => {}); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => { for (const s of sockets) s.destroy(); server.close(); });
  return { port: (server.address() as net.AddressInfo).port, accepted: () => n };
}

/** A port with nothing listening on it. */
async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('504 on requestMs and on backendRequestMs without retries', async (t) => {
  const hole = await blackhole(t);
  const snap = buildSnapshot({
    routes: [
      { path: { type: 'PathPrefix', value: '/req' }, timeouts: { requestMs: 150 } },
      { path: { type: 'PathPrefix', value: '/attempt' }, timeouts: { backendRequestMs: 150 } },
    ],
  });
  const { port } = await startProxy(t, snap, endpoints({ b: [hole.port] }));
  for (const path of ['/req', '/attempt']) {
    const started = Date.now();
    const r = await request(port, { path, agent: false });
    assert.equal(r.status, 504, path);
    assert.match(r.body, /upstream request timeout/);
    assert.ok(Date.now() - started < 2000);
  }
});

test('retries: a connect failure moves to the next endpoint, even for POST', async (t) => {
  const good = await echoUpstream(t, (_q, res, body) => res.end(`good:${body}`));
  const dead = await refusedPort();
  const snap = buildSnapshot({ routes: [{ retry: { attempts: 2, codes: [], backoffMs: 1 } }] });
  const { port } = await startProxy(t, snap, endpoints({ b: [dead, good.port] }));
  for (let i = 0; i < 4; i++) {
    const r = await request(port, { method: 'POST', body: `n${i}` });
    assert.equal(r.status, 200);
    assert.equal(r.body, `good:n${i}`);
  }
});

test('retries: retry-on-status goes to the second endpoint for GET, never for POST', async (t) => {
  const bad = await echoUpstream(t, (_q, res) => { res.statusCode = 503; res.end('bad'); });
  const good = await echoUpstream(t, (_q, res) => res.end('good'));
  const snap = buildSnapshot({ routes: [{ retry: { attempts: 1, codes: [503], backoffMs: 1 } }] });
  const { port } = await startProxy(t, snap, endpoints({ b: [bad.port, good.port] }));
  for (let i = 0; i < 4; i++) assert.equal((await request(port)).body, 'good');
  const before = bad.seen.length;
  const posts = [];
  for (let i = 0; i < 4; i++) posts.push((await request(port, { method: 'POST', body: 'x' })).status);
  assert.deepEqual(posts.sort(), [200, 200, 503, 503]);
  assert.equal(bad.seen.length - before, 2, 'each POST reached one upstream once');
});

test('retries: backendRequestMs timeout is retried on another endpoint', async (t) => {
  const hole = await blackhole(t);
  const good = await echoUpstream(t, (_q, res) => res.end('good'));
  const snap = buildSnapshot({ routes: [{ timeouts: { backendRequestMs: 100 }, retry: { attempts: 1, codes: [], backoffMs: 1 } }] });
  const { port } = await startProxy(t, snap, endpoints({ b: [hole.port, good.port] }));
  for (let i = 0; i < 2; i++) {
    const r = await request(port, { agent: false });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'good');
  }
  assert.ok(hole.accepted() >= 1);
});

test('retries: never once the response has started', async (t) => {
  let calls = 0;
  const flaky = await echoUpstream(t, (_q, res) => {
    calls++;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial');
    setImmediate(() => res.socket?.destroy());
  });
  const snap = buildSnapshot({ routes: [{ retry: { attempts: 3, codes: [], backoffMs: 1 } }] });
  const { port } = await startProxy(t, snap, endpoints({ b: [flaky.port] }));
  await assert.rejects(new Promise((resolve, reject) => {
    http.get({ port, host: '127.0.0.1', agent: false }, (res) => {
      res.on('data', () => {});
      res.on('end', resolve);
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('aborted')));
    }).on('error', reject);
  }));
  assert.equal(calls, 1);
});

test('POST reset after the body was sent is not retried; 502 upstream reset', async (t) => {
  let calls = 0;
  const resetter = await echoUpstream(t, (req) => { calls++; req.socket.destroy(); });
  const snap = buildSnapshot({ routes: [{ retry: { attempts: 3, codes: [], backoffMs: 1 } }] });
  const { port } = await startProxy(t, snap, endpoints({ b: [resetter.port] }));
  const r = await request(port, { method: 'POST', body: 'data', agent: false });
  assert.equal(r.status, 502);
  assert.match(r.body, /upstream reset/);
  assert.equal(calls, 1);
  const g = await request(port, { agent: false });
  assert.equal(g.status, 502);
  assert.equal(calls, 5, 'GET is retried three times');
});
