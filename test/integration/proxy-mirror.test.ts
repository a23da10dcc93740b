import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { UpstreamEvent } from '../../src/snapshot/index.ts';
import {
  buildSnapshot, echoUpstream, endpoints, eventually, mirrorFilter, recordUpstreamEvents, request, startProxy,
} from './proxy-harness.ts';

const mirrorAll = { type: 'RequestMirror' as const, backendId: 'm', numerator: 1, denominator: 1, maxBodyBytes: 1 << 20, allowUnsafeMethods: true, host: null, compare: null };

test('a hanging mirror does not delay the primary; beyond 64 in flight mirrors are dropped', async (t) => {
  const primary = await echoUpstream(t, (_q, res) => res.end('primary'));
  const hanging: http.ServerResponse[] = [];
  const mirror = await echoUpstream(t, (_q, res) => { hanging.push(res); });
  const events: UpstreamEvent[] = [];
  const onEvent = (e: unknown) => events.push(e as UpstreamEvent);
  subscribe('ferry:upstream', onEvent);
  t.after(() => unsubscribe('ferry:upstream', onEvent));
  const snap = buildSnapshot({ backends: { b: 'http1', m: 'http1' }, routes: [{ filters: [mirrorAll] }] });
  const { port } = await startProxy(t, snap, endpoints({ b: [primary.port], m: [mirror.port] }));

  const slowest: number[] = [];
  for (let i = 0; i < 10; i++) {
    const started = performance.now();
    const r = await request(port, { path: `/p/${i}`, headers: { host: 'shop.example' } });
    slowest.push(performance.now() - started);
    assert.equal(r.body, 'primary');
  }
  await eventually(() => hanging.length === 10);
  assert.ok(Math.max(...slowest) < 250, `primary latencies ${slowest.map((n) => n.toFixed(1)).join(',')}`);
  assert.equal(mirror.seen[0].headers.host, 'shop.example');

  const burst = await Promise.all(Array.from({ length: 80 }, (_, i) => request(port, { path: `/b/${i}` })));
  assert.ok(burst.every((r) => r.status === 200));
  await eventually(() => hanging.length === 64);
  const dropped = events.filter((e) => e.type === 'mirror_dropped').length;
  const sent = events.filter((e) => e.type === 'mirror_sent').length;
  assert.equal(sent, 64);
  assert.equal(dropped, 26);
  for (const res of hanging) res.end();
  await eventually(() => (request(port, { path: '/after' }).then(() => mirror.seen.length === 65)));
});

test('mirrored request bodies are teed; the mirror response is discarded', async (t) => {
  const primary = await echoUpstream(t, (_q, res, body) => res.end(`primary:${body}`));
  const mirror = await echoUpstream(t, (_q, res) => { res.statusCode = 500; res.end('mirror answer'); });
  const snap = buildSnapshot({ backends: { b: 'http1', m: 'http1' }, routes: [{ filters: [mirrorAll] }] });
  const { port } = await startProxy(t, snap, endpoints({ b: [primary.port], m: [mirror.port] }));
  const body = 'x'.repeat(10_000);
  const r = await request(port, { method: 'POST', body, path: '/submit' });
  assert.equal(r.status, 200);
  assert.equal(r.body, `primary:${body}`);
  await eventually(() => mirror.seen.length === 1);
  assert.equal(mirror.seen[0].body, body);
  assert.equal(mirror.seen[0].url, '/submit');
});

test('mirror fraction numerator/denominator', async (t) => {
  const primary = await echoUpstream(t, (_q, res) => res.end('p'));
  const mirror = await echoUpstream(t, (_q, res) => res.end('m'));
  const snap = buildSnapshot({ backends: { b: 'http1', m: 'http1' }, routes: [{ filters: [{ ...mirrorAll, numerator: 1, denominator: 4 }] }] });
  let i = 0;
  const { port } = await startProxy(t, snap, endpoints({ b: [primary.port], m: [mirror.port] }), { random: () => ((i++ % 4) + 0.5) / 4 });
  for (let n = 0; n < 40; n++) await request(port);
  await eventually(() => mirror.seen.length === 10);
});

async function mirrorSetup(t: import('node:test').TestContext, filter = mirrorFilter()) {
  const primary = await echoUpstream(t, (_q, res, body) => res.end(`primary:${body.length}`));
  const mirror = await echoUpstream(t, (_q, res) => res.end('m'));
  const events = recordUpstreamEvents(t);
  const snap = buildSnapshot({ backends: { b: 'http1', m: 'http1' }, routes: [{ filters: [filter] }] });
  const { port } = await startProxy(t, snap, endpoints({ b: [primary.port], m: [mirror.port] }));
  const count = (type: UpstreamEvent['type']) => events.filter((e) => e.type === type && e.backend === 'm').length;
  return { primary, mirror, port, count };
}

test('only GET, HEAD and OPTIONS are mirrored by default; other methods are counted skipped', async (t) => {
  const { mirror, port, count } = await mirrorSetup(t);
  for (const method of ['GET', 'HEAD', 'OPTIONS']) assert.equal((await request(port, { method, path: `/${method}` })).status, 200);
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    // Node's client frames a DELETE body only with an explicit Content-Length.
    const r = await request(port, { method, path: `/${method}`, body: 'payload', headers: { 'content-length': '7' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'primary:7', `${method} reaches the primary`);
  }
  await eventually(() => mirror.seen.length === 3 && count('mirror_skipped') === 4);
  assert.deepEqual(mirror.seen.map((s) => s.method).sort(), ['GET', 'HEAD', 'OPTIONS']);
  assert.equal(count('mirror_sent'), 3);
});

test('allowUnsafeMethods mirrors POST with its body', async (t) => {
  const { mirror, port, count } = await mirrorSetup(t, mirrorFilter({ allowUnsafeMethods: true }));
  const r = await request(port, { method: 'POST', path: '/orders', body: 'order=1' });
  assert.equal(r.body, 'primary:7');
  await eventually(() => mirror.seen.length === 1);
  assert.equal(mirror.seen[0].method, 'POST');
  assert.equal(mirror.seen[0].body, 'order=1');
  assert.equal(count('mirror_skipped'), 0);
});

test('a body over maxBodyBytes is not mirrored (by Content-Length, or cut off while streaming); the primary gets it whole', async (t) => {
  const { primary, mirror, port, count } = await mirrorSetup(t, mirrorFilter({ allowUnsafeMethods: true, maxBodyBytes: 1000 }));
  const big = 'x'.repeat(50_000);
  // Known length: never sent to the mirror.
  const r1 = await request(port, { method: 'POST', path: '/known', body: big });
  assert.equal(r1.body, 'primary:50000');
  await eventually(() => count('mirror_skipped') === 1);
  assert.equal(count('mirror_sent'), 0);
  // Unknown length (chunked): the copy starts, and is cut off once the body passes the limit.
  const r2 = await request(port, { method: 'POST', path: '/streamed', body: big, headers: { 'transfer-encoding': 'chunked' } });
  assert.equal(r2.body, 'primary:50000');
  await eventually(() => count('mirror_skipped') === 2);
  assert.equal(count('mirror_sent'), 1, 'the streamed copy had started');
  assert.equal(count('mirror_failed'), 0, 'a copy over the limit is skipped, not failed');
  // Within the limit (both ways) it is mirrored whole.
  await request(port, { method: 'POST', path: '/small', body: 'y'.repeat(1000) });
  await request(port, { method: 'POST', path: '/small-chunked', body: 'z'.repeat(900), headers: { 'transfer-encoding': 'chunked' } });
  await eventually(() => mirror.seen.length === 2);
  assert.deepEqual(mirror.seen.map((s) => [s.url, s.body.length]).sort(), [['/small', 1000], ['/small-chunked', 900]]);
  assert.equal(primary.seen.length, 4);
  assert.ok(!mirror.seen.some((s) => s.url === '/known' || s.url === '/streamed'));
});

test('the mirror receives the configured host, else the request\'s own', async (t) => {
  const own = await mirrorSetup(t);
  await request(own.port, { path: '/a', headers: { host: 'shop.example:8080' } });
  await eventually(() => own.mirror.seen.length === 1);
  assert.equal(own.mirror.seen[0].headers.host, 'shop.example:8080');

  const other = await mirrorSetup(t, mirrorFilter({ host: 'shop-canary.internal' }));
  await request(other.port, { path: '/b', headers: { host: 'shop.example' } });
  await eventually(() => other.mirror.seen.length === 1);
  assert.equal(other.mirror.seen[0].headers.host, 'shop-canary.internal');
  assert.equal(other.primary.seen[0].headers.host, 'shop.example', 'the primary keeps the original host');
});

test('a body read ahead for retries (over the 64 KiB retry buffer) reaches the mirror whole', async (t) => {
  const primary = await echoUpstream(t, (_q, res, body) => res.end(`primary:${body.length}`));
  const mirror = await echoUpstream(t, (_q, res) => res.end('m'));
  const snap = buildSnapshot({
    backends: { b: 'http1', m: 'http1' },
    routes: [{ filters: [mirrorFilter({ allowUnsafeMethods: true })], retry: { attempts: 1, codes: [503], backoffMs: 1 } }],
  });
  const { port } = await startProxy(t, snap, endpoints({ b: [primary.port], m: [mirror.port] }));
  const body = Buffer.alloc(200_000, 'q');
  const r = await request(port, { method: 'PUT', path: '/blob', body, headers: { 'transfer-encoding': 'chunked' } });
  assert.equal(r.body, 'primary:200000');
  await eventually(() => mirror.seen.length === 1);
  assert.equal(mirror.seen[0].body.length, 200_000);
});
