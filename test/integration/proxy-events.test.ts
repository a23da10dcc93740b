/** What the data plane publishes for observers: endpoint labels on records, and upstream state events. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  DEFAULT_CIRCUIT_BREAKER, DEFAULT_HEALTH_CHECK, DEFAULT_OUTLIER_DETECTION, type UpstreamEvent,
} from '../../src/snapshot/index.ts';
import {
  buildSnapshot, endpointSets, eventually, manualClock, namedUpstream, recordRequests, recordUpstreamEvents, request, startProxy,
} from './proxy-harness.ts';

const of = (events: UpstreamEvent[], type: UpstreamEvent['type']) => events.filter((e) => e.type === type);

test('records carry the answering endpoint\'s labels (the endpoint\'s own object), null without an endpoint', async (t) => {
  const a = await namedUpstream(t, 'a');
  const records = recordRequests(t);
  const eps = endpointSets({ b: [{ port: a.port, labels: { 'ferry.dev/platform': 'vm', version: 'v1' } }] });
  const snap = buildSnapshot({ routes: [{ path: { type: 'PathPrefix', value: '/app' } }] });
  const { port } = await startProxy(t, snap, eps);
  await request(port, { path: '/app/x' });
  await request(port, { path: '/nowhere' });
  await eventually(() => records.length === 2);
  const served = records.find((r) => r.path === '/app/x')!;
  assert.deepEqual(served.endpointLabels, { 'ferry.dev/platform': 'vm', version: 'v1' });
  assert.equal(served.endpointLabels, eps.get('b')![0].labels, 'no copy per request');
  assert.equal(records.find((r) => r.path === '/nowhere')!.endpointLabels, null);
});

test('breaker overflow is published', async (t) => {
  const slow = await namedUpstream(t, 'slow');
  slow.delayMs = 300;
  const events = recordUpstreamEvents(t);
  const snap = buildSnapshot({ routes: [{}], policies: { b: { circuitBreaker: { ...DEFAULT_CIRCUIT_BREAKER, maxRequests: 1 } } } });
  const { port } = await startProxy(t, snap, endpointSets({ b: [{ port: slow.port }] }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  t.after(() => agent.destroy());
  const first = request(port, { agent });
  await eventually(() => slow.hits === 1);
  assert.equal((await request(port, { agent })).status, 503);
  assert.equal((await first).status, 200);
  const overflow = of(events, 'overflow');
  assert.equal(overflow.length, 1);
  assert.deepEqual(overflow[0], { type: 'overflow', backend: 'b', endpoint: `127.0.0.1:${slow.port}`, protocol: 'http1' });
});

test('outlier ejection and return are published', async (t) => {
  const clock = manualClock();
  const bad = await namedUpstream(t, 'bad');
  const good = await namedUpstream(t, 'good');
  bad.status = 500;
  const events = recordUpstreamEvents(t);
  const snap = buildSnapshot({
    routes: [{}],
    policies: { b: { outlierDetection: { ...DEFAULT_OUTLIER_DETECTION, consecutive5xx: 2, baseEjectionMs: 1000, maxEjectionPercent: 50 } } },
  });
  const { port } = await startProxy(t, snap, endpointSets({ b: [{ port: bad.port }, { port: good.port }] }), { clock });
  for (let i = 0; i < 4; i++) await request(port);
  const badKey = `127.0.0.1:${bad.port}`;
  assert.deepEqual(of(events, 'ejected'), [{ type: 'ejected', backend: 'b', endpoint: badKey, protocol: 'http1' }]);
  assert.equal(of(events, 'uneject').length, 0);
  clock.advance(1000);
  assert.deepEqual(of(events, 'uneject'), [{ type: 'uneject', backend: 'b', endpoint: badKey, protocol: 'http1' }]);
});

test('health check state flips are published', async (t) => {
  const clock = manualClock();
  const a = await namedUpstream(t, 'a');
  const events = recordUpstreamEvents(t);
  const snap = buildSnapshot({
    routes: [{}],
    policies: { b: { healthCheck: { ...DEFAULT_HEALTH_CHECK, type: 'HTTP', path: '/healthz', intervalMs: 1000, timeoutMs: 60_000, unhealthyThreshold: 1 } } },
  });
  await startProxy(t, snap, endpointSets({ b: [{ port: a.port }] }), { clock });
  const key = `127.0.0.1:${a.port}`;
  clock.advance(1000); // first probe (after its jitter): passes, an endpoint that starts healthy does not flip
  await eventually(() => a.checks === 1);
  a.healthStatus = 503;
  await eventually(() => { clock.advance(1000); return of(events, 'health_failed').length === 1; });
  assert.deepEqual(of(events, 'health_failed')[0], { type: 'health_failed', backend: 'b', endpoint: key, protocol: 'http1' });
  assert.equal(of(events, 'health_passed').length, 0);
  a.healthStatus = 200;
  await eventually(() => { clock.advance(1000); return of(events, 'health_passed').length === 1; });
  assert.deepEqual(of(events, 'health_passed')[0], { type: 'health_passed', backend: 'b', endpoint: key, protocol: 'http1' });
});
