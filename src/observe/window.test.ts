import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../lib/index.ts';
import { requestChannel, type RequestRecord } from '../snapshot/index.ts';
import { createRequestWindows, isFailure, LATENCY_BINS } from './window.ts';

const RULE = 'HTTPRoute/default/productcatalog/rule/0';
const VM = 'Service/default/productcatalog-vm:3550';
const K8S = 'Service/default/productcatalog-k8s:3550';

function rec(over: Partial<RequestRecord>): RequestRecord {
  return {
    startTime: 0, gateway: 'default/edge', listener: 'default/edge/http', route: 'HTTPRoute/default/productcatalog',
    rule: RULE, backend: VM, endpoint: '10.0.0.1:3550', method: 'GET', path: '/', host: 'example.com',
    protocol: 'HTTP/1.1', status: 200, durationMs: 10, upstreamMs: 9, bytesIn: 0, bytesOut: 10, requestId: 'r',
    clientAddress: '127.0.0.1', attempts: 1, ...over,
  };
}

function exactPercentile(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(sorted.length * q)) - 1];
}

describe('request windows', () => {
  it('classifies failures: 5xx and errors, but not client aborts or redirects', () => {
    assert.equal(isFailure(200, undefined), false);
    assert.equal(isFailure(404, undefined), false);
    assert.equal(isFailure(500, undefined), true);
    assert.equal(isFailure(503, 'no_endpoints'), true);
    assert.equal(isFailure(200, 'upstream_reset'), true);
    assert.equal(isFailure(499, 'client_aborted'), false);
    assert.equal(isFailure(302, 'redirect'), false);
  });

  it('counts requests and errors per rule and backend within the window', () => {
    const w = createRequestWindows({ bucketMs: 100, maxWindowMs: 10_000 });
    for (let i = 0; i < 100; i++) {
      w.onRequest(rec({ startTime: 1_000 + i * 10, backend: VM, status: 200 }));
      w.onRequest(rec({ startTime: 1_000 + i * 10, backend: K8S, status: i % 10 === 0 ? 503 : 200 }));
    }
    const now = 2_100;
    const vm = w.stats(RULE, VM, 5_000, now);
    const k8s = w.stats(RULE, K8S, 5_000, now);
    assert.equal(vm.count, 100);
    assert.equal(vm.errors, 0);
    assert.equal(vm.successRate, 100);
    assert.equal(k8s.count, 100);
    assert.equal(k8s.errors, 10);
    assert.equal(k8s.successRate, 90);
    assert.equal(w.stats('other', VM, 5_000, now).count, 0);
    assert.equal(w.stats(RULE, 'other', 5_000, now).successRate, 100);
  });

  it('ignores records without a rule or backend', () => {
    const w = createRequestWindows();
    w.onRequest(rec({ rule: null }));
    w.onRequest(rec({ backend: null }));
    assert.equal(w.size().series, 0);
  });

  it('slides: old buckets leave the window, and a shorter window sees only recent requests', () => {
    const w = createRequestWindows({ bucketMs: 100, maxWindowMs: 5_000 });
    for (let t = 0; t < 10_000; t += 10) w.record(RULE, VM, t, 5, t >= 9_000);
    assert.equal(w.stats(RULE, VM, 5_000, 9_999).count, 500);
    assert.equal(w.stats(RULE, VM, 1_000, 9_999).count, 100);
    assert.equal(w.stats(RULE, VM, 1_000, 9_999).errors, 100);
    assert.equal(w.stats(RULE, VM, 2_000, 9_999).errors, 100);
    // asking for more than the ring holds is clamped
    assert.equal(w.stats(RULE, VM, 60_000, 9_999).count, 500);
    // later, with no new requests, everything has left the window
    assert.equal(w.stats(RULE, VM, 5_000, 20_000).count, 0);
    // recording after a long gap reuses slots without mixing old counts in
    w.record(RULE, VM, 30_000, 5, false);
    assert.equal(w.stats(RULE, VM, 5_000, 30_000).count, 1);
    // outcomes older than the ring are dropped
    w.record(RULE, VM, 100, 5, false);
    assert.equal(w.stats(RULE, VM, 5_000, 30_000).count, 1);
  });

  it('keeps percentiles within a bin of the exact values', () => {
    const random = seededRandom(7);
    const w = createRequestWindows({ bucketMs: 100, maxWindowMs: 10_000 });
    const samples: number[] = [];
    for (let i = 0; i < 5_000; i++) {
      // log-normal-ish latencies from sub-millisecond to seconds
      const ms = Math.exp(random() * 4 + random() * 4 - 1);
      samples.push(ms);
      w.record(RULE, VM, 1_000 + i, ms, false);
    }
    samples.sort((a, b) => a - b);
    const s = w.stats(RULE, VM, 10_000, 7_000);
    assert.equal(s.count, 5_000);
    const tolerance = 2 ** (1 / 8) - 1 + 1e-9;
    for (const [q, got] of [[0.5, s.p50], [0.9, s.p90], [0.95, s.p95], [0.99, s.p99]] as const) {
      const exact = exactPercentile(samples, q);
      assert.ok(Math.abs(got - exact) / exact <= tolerance, `p${q * 100}: ${got} vs exact ${exact}`);
    }
  });

  it('puts sub-0.1 ms and very long latencies in the end bins', () => {
    const w = createRequestWindows();
    w.record(RULE, VM, 1_000, 0, false);
    assert.equal(w.stats(RULE, VM, 1_000, 1_000).p99, 0.1);
    w.record(RULE, K8S, 1_000, 10_000_000, false);
    assert.ok(w.stats(RULE, K8S, 1_000, 1_000).p99 > 100_000);
    assert.equal(LATENCY_BINS, 82);
  });

  it('caps the number of series, evicting idle ones first', () => {
    const w = createRequestWindows({ maxSeries: 3, maxWindowMs: 1_000, idleMs: 5_000 });
    w.record(RULE, 'a', 0, 1, false);
    w.record(RULE, 'b', 0, 1, false);
    w.record('r2', 'c', 4_000, 1, false);
    w.record(RULE, 'd', 4_000, 1, false); // cap reached, nothing idle yet
    assert.deepEqual(w.size(), { series: 3, dropped: 1 });
    w.record(RULE, 'd', 6_000, 1, false); // a and b idle since 0 < 6000 - 5000: evicted
    assert.deepEqual(w.size(), { series: 2, dropped: 1 });
    assert.equal(w.stats(RULE, 'd', 1_000, 6_000).count, 1);
    assert.equal(w.stats(RULE, 'a', 1_000, 6_000).count, 0);
    w.prune(20_000);
    assert.equal(w.size().series, 0);
  });

  it('records without allocating per request: memory stays flat under load', () => {
    const w = createRequestWindows({ bucketMs: 100, maxWindowMs: 10_000 });
    w.record(RULE, VM, 0, 1, false);
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1_000_000; i++) w.record(RULE, VM, i / 10, (i % 500) / 7, i % 97 === 0);
    const grown = process.memoryUsage().heapUsed - before;
    assert.ok(grown < 8 * 1024 * 1024, `heap grew by ${grown} bytes over a million records`);
    assert.equal(w.stats(RULE, VM, 10_000, 99_999).count, 100_000);
  });

  it('subscribes to the request channel and stops when asked', () => {
    const w = createRequestWindows();
    const stop = w.subscribe();
    assert.throws(() => w.subscribe(), /already subscribed/);
    requestChannel.publish(rec({ startTime: 5_000, status: 502, error: 'upstream_connect_failure' }));
    stop();
    requestChannel.publish(rec({ startTime: 5_000 }));
    const s = w.stats(RULE, VM, 1_000, 5_010);
    assert.equal(s.count, 1);
    assert.equal(s.errors, 1);
    stop();
  });
});
