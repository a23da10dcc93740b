/** Passive outlier detection and backend retries through the proxy, with real sockets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_OUTLIER_DETECTION, type OutlierDetectionSpec } from '../../src/snapshot/index.ts';
import { backendRetry, buildSnapshot, endpoints, eventually, namedUpstream, names, recordRequests, request, startProxy } from './proxy-harness.ts';

function outlier(over: Partial<OutlierDetectionSpec>): OutlierDetectionSpec {
  return { ...DEFAULT_OUTLIER_DETECTION, baseEjectionMs: 300, maxEjectionMs: 600, intervalMs: 1000, maxEjectionPercent: 50, ...over };
}

test('an endpoint killed under continuous load: no GET fails, it is ejected, and it returns after its ejection time', async (t) => {
  const a = await namedUpstream(t, 'a');
  const b = await namedUpstream(t, 'b');
  const snap = buildSnapshot({
    routes: [{}],
    policies: { b: {
      retry: backendRetry({ budgetPercent: 100, budgetMinConcurrency: 8 }),
      outlierDetection: outlier({ consecutiveConnectFailures: 2 }),
    } },
  });
  const records = recordRequests(t);
  const { port } = await startProxy(t, snap, endpoints({ b: [a.port, b.port] }));
  const failures: string[] = [];
  let sent = 0;
  let stop = false;
  const worker = async () => {
    while (!stop || sent < 200) {
      const r = await request(port);
      sent++;
      if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
    }
  };
  const load = Promise.all([worker(), worker(), worker(), worker()]);
  await eventually(() => sent >= 50);
  assert.ok(a.hits > 0 && b.hits > 0);
  await a.stop();
  const killedAt = records.length;
  // Ejected: a run of requests answered by b at the first attempt, no retry needed.
  await eventually(() => {
    const since = records.slice(killedAt);
    return since.length >= 40 && since.slice(-20).every((r) => r.attempts === 1 && r.endpoint === `127.0.0.1:${b.port}`);
  });
  assert.ok(records.slice(killedAt).some((r) => r.attempts === 2), 'the first failures were retried on b');
  await a.restart();
  const hits = a.hits;
  await eventually(() => a.hits > hits);
  stop = true;
  await load;
  assert.ok(sent >= 200);
  assert.deepEqual(failures, []);
});

test('consecutive 5xx eject an endpoint; it gets traffic again once its ejection time is up', async (t) => {
  const a = await namedUpstream(t, 'a');
  const b = await namedUpstream(t, 'b');
  a.status = 500;
  const snap = buildSnapshot({ routes: [{}], policies: { b: { outlierDetection: outlier({ consecutive5xx: 3 }) } } });
  const { port } = await startProxy(t, snap, endpoints({ b: [a.port, b.port] }));
  const first = await names(port, 8);
  assert.equal(first.filter((n) => n === '!500').length, 3, 'ejected at the third consecutive 5xx');
  assert.deepEqual(await names(port, 10), new Array(10).fill('b'));
  a.status = 200;
  await eventually(async () => (await names(port, 4)).includes('a'));
});

test('maxEjectionPercent: never more than the allowed share of endpoints ejected (at least one)', async (t) => {
  const ups = await Promise.all(['a', 'b', 'c'].map((n) => namedUpstream(t, n)));
  for (const u of ups) u.status = 503;
  const snap = buildSnapshot({ routes: [{}], policies: { b: { outlierDetection: outlier({ consecutive5xx: 1, maxEjectionPercent: 10, baseEjectionMs: 60_000 }) } } });
  const { port } = await startProxy(t, snap, endpoints({ b: ups.map((u) => u.port) }));
  await names(port, 6);
  const before = ups.map((u) => u.hits);
  await names(port, 20);
  const got = ups.map((u, i) => u.hits - before[i]);
  assert.equal(got.filter((n) => n === 0).length, 1, `one ejected: ${got}`);
  assert.equal(got.filter((n) => n >= 8).length, 2, `two still serving: ${got}`);
});

test('consecutive gateway errors count connect failures; success resets the streak', async (t) => {
  const a = await namedUpstream(t, 'a');
  const b = await namedUpstream(t, 'b');
  a.status = 502;
  const snap = buildSnapshot({ routes: [{}], policies: { b: { outlierDetection: outlier({ consecutive5xx: 0, consecutiveGatewayErrors: 3 }) } } });
  const { port } = await startProxy(t, snap, endpoints({ b: [a.port, b.port] }));
  await names(port, 4); // a: 502, 502
  a.status = 200;
  await names(port, 2); // a: 200 resets
  a.status = 504;
  const seen = await names(port, 4); // a: 504, 504 — still below 3
  assert.equal(seen.filter((n) => n === '!504').length, 2);
  const more = await names(port, 6); // a: 504 → ejected
  assert.equal(more.filter((n) => n === '!504').length, 1);
});
