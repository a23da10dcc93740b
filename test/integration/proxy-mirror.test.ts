import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { UpstreamEvent } from '../../src/snapshot/index.ts';
import { buildSnapshot, echoUpstream, endpoints, eventually, request, startProxy } from './proxy-harness.ts';

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
