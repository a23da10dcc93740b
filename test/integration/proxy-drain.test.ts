import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { buildSnapshot, echoUpstream, endpoints, eventually, request, startProxy } from './proxy-harness.ts';

test('drain finishes an in-flight slow request, closes idle keep-alive and HTTP/2 sessions, then refuses', async (t) => {
  let release: (() => void) | null = null;
  const up = await echoUpstream(t, (req, res) => {
    if (req.url === '/slow') release = () => res.end('slow done');
    else res.end('fast');
  });
  const { proxy, port } = await startProxy(t, buildSnapshot({ routes: [{}] }), endpoints({ b: [up.port] }));
  const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => idleAgent.destroy());
  assert.equal((await request(port, { agent: idleAgent })).body, 'fast');
  const idleSocketClosed = new Promise<void>((resolve) => {
    const sockets = (idleAgent.freeSockets as Record<string, import('node:net').Socket[]>);
    const s = Object.values(sockets).flat()[0];
    s.once('close', () => resolve());
  });
  const h2 = http2.connect(`http://127.0.0.1:${port}`);
  h2.on('error', () => {});
  const goaway = new Promise<void>((resolve) => h2.once('goaway', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const s = h2.request({ ':path': '/warm' });
    s.on('response', () => {});
    s.resume();
    s.on('end', resolve);
    s.on('error', reject);
  });

  const slow = request(port, { path: '/slow', agent: false });
  await eventually(() => release !== null);
  const drained = proxy.drain(5000);
  let drainDone = false;
  void drained.then(() => { drainDone = true; });
  await idleSocketClosed;
  await goaway;
  await assert.rejects(request(port, { agent: false }));
  assert.equal(drainDone, false);
  release!();
  const r = await slow;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'slow done');
  assert.equal(r.headers.connection, 'close');
  await drained;
});

test('drain destroys what is still running when the grace period ends', async (t) => {
  const up = await echoUpstream(t, () => { /* never answers */ });
  const { proxy, port } = await startProxy(t, buildSnapshot({ routes: [{}] }), endpoints({ b: [up.port] }));
  const hanging = request(port, { path: '/hang', agent: false }).then(() => null, (err: Error) => err);
  await eventually(() => up.seen.length === 1);
  const started = Date.now();
  await proxy.drain(100);
  assert.ok(Date.now() - started < 2000);
  assert.ok((await hanging) instanceof Error);
});
