/** Active health checks through the proxy: HTTP, TCP, gRPC, start states, panic, state across reloads. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_HEALTH_CHECK, type HealthCheckSpec } from '../../src/snapshot/index.ts';
import { createGrpcClient, startGrpcServer, startH2cEchoServer } from '../support/index.ts';
import { buildSnapshot, endpoints, eventually, manualClock, namedUpstream, names, request, startProxy } from './proxy-harness.ts';

/** Tests on a manual clock use a probe timeout longer than any advance(), so a probe is never cut short by a jump in time. */
function hc(over: Partial<HealthCheckSpec>): HealthCheckSpec {
  return { ...DEFAULT_HEALTH_CHECK, type: 'HTTP', path: '/healthz', intervalMs: 40, timeoutMs: 500, ...over };
}

test('HTTP health check: unhealthy after the threshold, healthy again after recovery', async (t) => {
  const a = await namedUpstream(t, 'a');
  const b = await namedUpstream(t, 'b');
  const snap = buildSnapshot({ routes: [{}], policies: { b: { healthCheck: hc({ unhealthyThreshold: 2, healthyThreshold: 2, host: 'health.internal' }) } } });
  const { port } = await startProxy(t, snap, endpoints({ b: [a.port, b.port] }));
  assert.deepEqual(new Set(await names(port, 4)), new Set(['a', 'b']), 'a new backend starts healthy');
  await eventually(() => a.checks > 0);
  assert.equal(a.checkHost, 'health.internal');
  a.healthStatus = 503;
  const checksAtFailure = a.checks;
  await eventually(async () => (await names(port, 10)).every((n) => n === 'b'));
  assert.ok(a.checks - checksAtFailure >= 2, 'marked unhealthy only after two failed checks');
  const hits = a.hits;
  await names(port, 10);
  assert.equal(a.hits, hits, 'no traffic to the unhealthy endpoint');
  a.healthStatus = 200;
  await eventually(async () => (await names(port, 4)).includes('a'));
});

test('TCP health check: a stopped endpoint is taken out, and back once it listens again', async (t) => {
  const a = await namedUpstream(t, 'a');
  const b = await namedUpstream(t, 'b');
  const snap = buildSnapshot({ routes: [{}], policies: { b: { healthCheck: hc({ type: 'TCP', unhealthyThreshold: 1 }) } } });
  const { port } = await startProxy(t, snap, endpoints({ b: [a.port, b.port] }));
  await a.stop();
  await eventually(async () => (await names(port, 10)).every((n) => n === 'b'));
  await a.restart();
  await eventually(async () => (await names(port, 4)).includes('a'));
});

test('gRPC health check: NOT_SERVING takes the endpoint out, SERVING brings it back', async (t) => {
  const a = await startGrpcServer({ name: 'a' });
  const b = await startGrpcServer({ name: 'b' });
  t.after(() => Promise.all([a.close(), b.close()]));
  const snap = buildSnapshot({
    routes: [{}],
    backends: { b: 'h2c' },
    policies: { b: { healthCheck: hc({ type: 'GRPC', grpcService: 'ferry.test.Echo', unhealthyThreshold: 1 }) } },
  });
  const { port } = await startProxy(t, snap, endpoints({ b: [a.port, b.port] }));
  const client = createGrpcClient(`127.0.0.1:${port}`);
  t.after(() => client.close());
  const servers = async (n: number) => { const out: string[] = []; for (let i = 0; i < n; i++) out.push((await client.say('hi')).server); return out; };
  assert.deepEqual(new Set(await servers(4)), new Set(['a', 'b']));
  a.setHealth('ferry.test.Echo', 'NOT_SERVING');
  await eventually(async () => (await servers(10)).every((s) => s === 'b'));
  assert.ok(a.requests.some((r) => r.url === '/grpc.health.v1.Health/Check'));
  a.setHealth('ferry.test.Echo', 'SERVING');
  await eventually(async () => (await servers(4)).includes('a'));
});

test('an endpoint added to a checked backend gets traffic only after its first check passes; a removed one is no longer checked', async (t) => {
  const clock = manualClock();
  const a = await namedUpstream(t, 'a');
  const b = await namedUpstream(t, 'b');
  const snap = buildSnapshot({ routes: [{}], policies: { b: { healthCheck: hc({ intervalMs: 10_000, timeoutMs: 5000, healthyThreshold: 3 }) } } });
  const { proxy, port } = await startProxy(t, snap, endpoints({ b: [a.port] }), { clock });
  proxy.setEndpoints(endpoints({ b: [a.port, b.port] }));
  assert.deepEqual(new Set(await names(port, 6)), new Set(['a']));
  clock.advance(1000); // past the first check's jitter
  await eventually(() => b.checks === 1);
  await eventually(async () => (await names(port, 4)).includes('b'));
  // An endpoint that disappears is no longer checked.
  proxy.setEndpoints(endpoints({ b: [a.port] }));
  const aChecks = a.checks;
  clock.advance(10_000); // one interval: a's next check is due, b's would have been too
  await eventually(() => a.checks === aChecks + 1);
  assert.equal(b.checks, 1);
});

test('health state survives apply() of a new snapshot (even with a changed policy) and setEndpoints() of the same endpoints', async (t) => {
  const clock = manualClock();
  const ups = await Promise.all(['a', 'b', 'c'].map((n) => namedUpstream(t, n)));
  const [a] = ups;
  const policy = hc({ intervalMs: 10_000, timeoutMs: 5000, unhealthyThreshold: 1 });
  const snap = buildSnapshot({ routes: [{}], policies: { b: { healthCheck: policy } } });
  const eps = () => endpoints({ b: ups.map((u) => u.port) });
  const { proxy, port } = await startProxy(t, snap, eps(), { clock });
  a.healthStatus = 503;
  clock.advance(1000);
  await eventually(() => ups.every((u) => u.checks === 1));
  await eventually(async () => !(await names(port, 6)).includes('a'));
  a.healthStatus = 200; // no check runs until the clock moves
  await proxy.apply(buildSnapshot({ routes: [{}], version: 2, policies: { b: { healthCheck: { ...policy, timeoutMs: 4000 } } } }));
  proxy.setEndpoints(eps());
  await proxy.apply(buildSnapshot({ routes: [{}], version: 3, policies: { b: { healthCheck: { ...policy, timeoutMs: 4000 } } } }));
  proxy.setEndpoints(eps());
  const seen = await names(port, 12);
  assert.ok(!seen.includes('a'), 'still unhealthy');
  assert.deepEqual(new Set(seen), new Set(['b', 'c']), 'b and c kept their healthy state (new endpoints would start unhealthy)');
  clock.advance(1000);
  await eventually(async () => (await names(port, 6)).includes('a'));
});

test('panic threshold: with every endpoint failing its checks, traffic still flows; threshold 0 refuses', async (t) => {
  for (const panicThresholdPercent of [50, 0]) {
    const a = await namedUpstream(t, 'a');
    const b = await namedUpstream(t, 'b');
    a.healthStatus = 500;
    b.healthStatus = 500;
    const snap = buildSnapshot({ routes: [{}], policies: { b: { panicThresholdPercent, healthCheck: hc({ unhealthyThreshold: 1 }) } } });
    const { port } = await startProxy(t, snap, endpoints({ b: [a.port, b.port] }));
    await eventually(() => a.checks >= 2 && b.checks >= 2);
    const got = await names(port, 6);
    if (panicThresholdPercent > 0) assert.deepEqual(new Set(got), new Set(['a', 'b']));
    else {
      assert.deepEqual(new Set(got), new Set(['!503']));
      assert.match((await request(port)).body, /no healthy upstream/);
    }
  }
});

test('HTTP health check over h2c for an h2c backend', async (t) => {
  let aHealth = 200;
  const h2Checks: string[] = [];
  const make = (name: string, health: () => number) => startH2cEchoServer({
    name,
    handler: (req, res) => {
      if (req.url !== '/healthz') return false;
      h2Checks.push(`${name} ${req.httpVersion}`);
      (res as import('node:http2').Http2ServerResponse).writeHead(health()).end();
      return true;
    },
  });
  const a = await make('a', () => aHealth);
  const b = await make('b', () => 200);
  t.after(() => Promise.all([a.close(), b.close()]));
  const snap = buildSnapshot({ routes: [{}], backends: { b: 'h2c' }, policies: { b: { healthCheck: hc({ unhealthyThreshold: 1 }) } } });
  const { port } = await startProxy(t, snap, endpoints({ b: [a.port, b.port] }));
  const served = async (n: number) => { const out: string[] = []; for (let i = 0; i < n; i++) out.push(JSON.parse((await request(port)).body).name); return out; };
  assert.deepEqual(new Set(await served(4)), new Set(['a', 'b']));
  aHealth = 503;
  await eventually(async () => (await served(8)).every((n) => n === 'b'));
  assert.ok(h2Checks.includes('a 2.0'), 'probed over HTTP/2');
  aHealth = 200;
  await eventually(async () => (await served(4)).includes('a'));
});
