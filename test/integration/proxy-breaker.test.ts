/** Circuit breaking, backend retries, retry budgets and connect timeouts through the proxy. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { DEFAULT_CIRCUIT_BREAKER, type CircuitBreakerSpec } from '../../src/snapshot/index.ts';
import { backendRetry, buildSnapshot, echoUpstream, endpoints, eventually, namedUpstream, recordRequests, request, startProxy } from './proxy-harness.ts';

function breaker(over: Partial<CircuitBreakerSpec>): CircuitBreakerSpec {
  return { ...DEFAULT_CIRCUIT_BREAKER, ...over };
}

const noPool = new http.Agent({ keepAlive: true, maxSockets: 64 });

test('maxRequests 2 with a slow upstream: the third concurrent request is refused at once', async (t) => {
  const slow = await namedUpstream(t, 'slow');
  slow.delayMs = 400;
  const records = recordRequests(t);
  const snap = buildSnapshot({ routes: [{}], policies: { b: { circuitBreaker: breaker({ maxRequests: 2 }) } } });
  const { port } = await startProxy(t, snap, endpoints({ b: [slow.port] }));
  const first = [request(port, { agent: noPool }), request(port, { agent: noPool })];
  await eventually(() => slow.hits === 2);
  const started = performance.now();
  const third = await request(port, { agent: noPool });
  const took = performance.now() - started;
  assert.equal(third.status, 503);
  assert.equal(third.body, 'upstream overflow\n');
  assert.ok(took < 50, `answered in ${took} ms`);
  assert.deepEqual((await Promise.all(first)).map((r) => r.status), [200, 200]);
  assert.ok(records.some((r) => r.status === 503 && r.error === 'overflow'));
  assert.equal((await request(port, { agent: noPool })).status, 200, 'admitted again once the others finished');
});

test('maxConnections 1 with maxPendingRequests 1: one runs, one waits for the connection, the next overflows', async (t) => {
  const slow = await namedUpstream(t, 'slow');
  slow.delayMs = 200;
  const snap = buildSnapshot({ routes: [{}], policies: { b: { circuitBreaker: breaker({ maxConnections: 1, maxPendingRequests: 1 }) } } });
  const { port } = await startProxy(t, snap, endpoints({ b: [slow.port] }));
  const running = request(port, { agent: noPool });
  await eventually(() => slow.hits === 1);
  // Of the next two, whichever arrives first waits for the connection and the other overflows.
  const next = await Promise.all([request(port, { agent: noPool }), request(port, { agent: noPool })]);
  assert.deepEqual(next.map((r) => r.status).sort(), [200, 503]);
  assert.equal((await running).status, 200);
  assert.equal(slow.hits, 2);
});

test('retry budget: concurrent retries capped at the minimum concurrency when the percentage allows fewer', async (t) => {
  const failing = await namedUpstream(t, 'f');
  failing.status = 503;
  failing.delayMs = 150;
  const snap = buildSnapshot({
    routes: [{}],
    policies: { b: { retry: backendRetry({ attempts: 1, retryOn: ['retriable-status-codes'], retriableStatusCodes: [503], budgetPercent: 0, budgetMinConcurrency: 2 }) } },
  });
  const { port } = await startProxy(t, snap, endpoints({ b: [failing.port] }));
  const results = await Promise.all(Array.from({ length: 10 }, () => request(port, { agent: noPool })));
  assert.deepEqual(new Set(results.map((r) => r.status)), new Set([503]));
  assert.equal(failing.hits, 12, '10 first attempts and only 2 retries');
});

test('backend retries: used when the rule has none; POST is not retried after a reset unless retryNonIdempotent', async (t) => {
  for (const retryNonIdempotent of [false, true]) {
    let calls = 0;
    const flaky = await echoUpstream(t, (req, res) => {
      calls++;
      if (calls % 2 === 1) { req.socket.destroy(); return; }
      res.end('ok');
    });
    const snap = buildSnapshot({ routes: [{}], policies: { b: { retry: backendRetry({ retryOn: ['reset'], retryNonIdempotent }) } } });
    const { port } = await startProxy(t, snap, endpoints({ b: [flaky.port] }));
    const get = await request(port, { agent: false });
    assert.equal(get.status, 200, 'GET retried after the reset');
    assert.equal(calls, 2);
    const post = await request(port, { method: 'POST', body: 'payload', agent: false });
    if (retryNonIdempotent) {
      assert.equal(post.status, 200);
      assert.equal(calls, 4);
      assert.equal(flaky.seen[3].body, 'payload', 'the buffered body is replayed');
    } else {
      assert.equal(post.status, 502);
      assert.match(post.body, /upstream reset/);
      assert.equal(calls, 3);
    }
  }
});

test('backend retries follow retryOn: connect-failure only does not retry a 503', async (t) => {
  const bad = await namedUpstream(t, 'bad');
  const good = await namedUpstream(t, 'good');
  bad.status = 503;
  const snap = buildSnapshot({ routes: [{}], policies: { b: { retry: backendRetry({ retryOn: ['connect-failure'] }) } } });
  const { port } = await startProxy(t, snap, endpoints({ b: [bad.port, good.port] }));
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await request(port)).status);
  assert.deepEqual(statuses.sort(), [200, 200, 503, 503]);
});

test('a rule retry still wins over the backend policy', async (t) => {
  const bad = await namedUpstream(t, 'bad');
  const good = await namedUpstream(t, 'good');
  bad.status = 503;
  const snap = buildSnapshot({
    routes: [{ retry: { attempts: 1, codes: [503], backoffMs: 1 } }],
    policies: { b: { retry: backendRetry({ retryOn: ['connect-failure'] }) } },
  });
  const { port } = await startProxy(t, snap, endpoints({ b: [bad.port, good.port] }));
  for (let i = 0; i < 4; i++) assert.equal((await request(port)).body, 'good');
});
