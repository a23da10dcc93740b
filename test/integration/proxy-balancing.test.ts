/** Load-balancing policies through the proxy: weights, least request, consistent hashing, sticky splits, locality failover. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { DEFAULT_HEALTH_CHECK, type BackendPolicy, type HashOn, type LoadBalancerSpec } from '../../src/snapshot/index.ts';
import { buildSnapshot, endpointSets, endpoints, eventually, namedUpstream, names, request, startProxy } from './proxy-harness.ts';

function lb(type: LoadBalancerSpec['type'], hashOn: HashOn | null = null): Partial<BackendPolicy> {
  return { loadBalancer: { type, hashOn, ringSize: 1024 } };
}

function count(list: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of list) out[n] = (out[n] ?? 0) + 1;
  return out;
}

test('endpoint weights are honoured by every balancer', async (t) => {
  const a = await namedUpstream(t, 'a');
  const b = await namedUpstream(t, 'b');
  for (const type of ['RoundRobin', 'LeastRequest', 'Random', 'RingHash', 'Maglev'] as const) {
    const snap = buildSnapshot({ routes: [{}], policies: { b: lb(type, { type: 'Header', name: 'x-user' }) } });
    const { port } = await startProxy(t, snap, endpointSets({ b: [{ port: a.port, weight: 3 }, { port: b.port, weight: 1 }] }));
    const got: string[] = [];
    for (let i = 0; i < 400; i++) got.push((await request(port, { headers: { 'x-user': `u${i}` } })).body);
    const share = (count(got).a ?? 0) / 400;
    assert.ok(Math.abs(share - 0.75) < 0.08, `${type}: a got ${share}`);
  }
});

test('least request sends new requests to the idle endpoint while the other is slow', async (t) => {
  const slow = await namedUpstream(t, 'slow');
  const fast = await namedUpstream(t, 'fast');
  slow.delayMs = 300;
  const snap = buildSnapshot({ routes: [{}], policies: { b: lb('LeastRequest') } });
  const { port } = await startProxy(t, snap, endpoints({ b: [slow.port, fast.port] }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let done = 0;
  const worker = async () => { while (done < 60) { await request(port, { agent }); done++; } };
  await Promise.all([worker(), worker(), worker(), worker()]);
  assert.ok(slow.hits <= 6, `slow endpoint got ${slow.hits} of ${done}`);
});

test('ring hash and Maglev: the same header reaches the same endpoint; adding an endpoint moves few keys', async (t) => {
  const ups = await Promise.all(['a', 'b', 'c', 'd'].map((n) => namedUpstream(t, n)));
  for (const type of ['RingHash', 'Maglev'] as const) {
    const snap = buildSnapshot({ routes: [{}], policies: { b: lb(type, { type: 'Header', name: 'X-User' }) } });
    const { proxy, port } = await startProxy(t, snap, endpoints({ b: ups.slice(0, 3).map((u) => u.port) }));
    const place = async () => {
      const out: string[] = [];
      for (let i = 0; i < 200; i++) out.push((await request(port, { headers: { 'x-user': `user-${i}` } })).body);
      return out;
    };
    const before = await place();
    assert.deepEqual(await place(), before, `${type}: stable`);
    assert.equal(new Set(before).size, 3, `${type}: keys spread`);
    proxy.setEndpoints(endpoints({ b: ups.map((u) => u.port) }));
    const after = await place();
    const moved = after.filter((n, i) => n !== before[i]).length / before.length;
    assert.ok(moved > 0.1 && moved <= 0.25 + 0.1, `${type}: moved ${moved}`);
    assert.equal(new Set(await names(port, 8)).size, 4, `${type}: without the header, round robin`);
  }
});

test('cookie affinity holds through a 50/50 split: each user keeps its backend and endpoint; new users spread', async (t) => {
  const ups = await Promise.all(['v1-a', 'v1-b', 'v2-a', 'v2-b'].map((n) => namedUpstream(t, n)));
  const cookie: HashOn = { type: 'Cookie', name: 'sid', ttlSeconds: 600, path: '/' };
  const snap = buildSnapshot({
    routes: [{ backends: [{ id: 'v1', weight: 50 }, { id: 'v2', weight: 50 }] }],
    backends: { v1: 'http1', v2: 'http1' },
    policies: { v1: lb('RingHash', cookie), v2: lb('Maglev', cookie) },
  });
  const { port } = await startProxy(t, snap, endpoints({ v1: [ups[0].port, ups[1].port], v2: [ups[2].port, ups[3].port] }));
  const firstChoice: string[] = [];
  for (let u = 0; u < 50; u++) {
    const first = await request(port);
    const set = first.headers['set-cookie'];
    assert.ok(set !== undefined && set.length === 1, 'a new user gets the affinity cookie');
    assert.match(set[0], /^sid=[0-9a-f]{32}; Path=\/; HttpOnly; Max-Age=600$/);
    const sid = set[0].split(';')[0];
    firstChoice.push(first.body);
    for (let i = 0; i < 9; i++) {
      const r = await request(port, { headers: { cookie: `lang=en; ${sid}` } });
      assert.equal(r.body, first.body, `user ${u} request ${i + 2}`);
      assert.equal(r.headers['set-cookie'], undefined);
    }
  }
  const v1 = firstChoice.filter((n) => n.startsWith('v1')).length;
  assert.ok(v1 >= 15 && v1 <= 35, `new users on v1: ${v1} of 50`);
  assert.equal(new Set(firstChoice).size, 4, 'users spread over every endpoint');
  // Users who bring their own cookie value stick too.
  for (let u = 0; u < 10; u++) {
    const got = new Set((await Promise.all(Array.from({ length: 5 }, () => request(port, { headers: { cookie: `sid=user-${u}` } })))).map((r) => r.body));
    assert.equal(got.size, 1);
  }
});

test('locality failover: traffic leaves the first level when it fails, spills to the next ones, and comes back', async (t) => {
  const [a1, a2, b1, c1] = await Promise.all(['a1', 'a2', 'b1', 'c1'].map((n) => namedUpstream(t, n)));
  const zone = 'topology.kubernetes.io/zone';
  const snap = buildSnapshot({
    routes: [{}],
    policies: { b: {
      healthCheck: { ...DEFAULT_HEALTH_CHECK, type: 'HTTP', path: '/healthz', intervalMs: 40, timeoutMs: 500, unhealthyThreshold: 1 },
      locality: { priorities: [{ [zone]: 'a' }, { [zone]: 'b' }], minHealthyPercent: 70 },
    } },
  });
  const { port } = await startProxy(t, snap, endpointSets({ b: [
    { port: a1.port, labels: { [zone]: 'a' } }, { port: a2.port, labels: { [zone]: 'a' } },
    { port: b1.port, labels: { [zone]: 'b' } }, { port: c1.port, labels: { [zone]: 'c' } },
  ] }));
  const spread = async () => new Set(await names(port, 12));
  assert.deepEqual(await spread(), new Set(['a1', 'a2']), 'level 0 takes everything while healthy');
  a1.healthStatus = 503;
  // 1 of 2 healthy = 50% × 100/70 = 71%: level 1 takes the remaining 29%.
  await eventually(async () => { const s = count(await names(port, 40)); return s.a2 > 15 && s.b1 > 3 && !s.a1 && !s.c1; });
  a2.healthStatus = 503;
  await eventually(async () => { const s = await spread(); return s.size === 1 && s.has('b1'); });
  b1.healthStatus = 503;
  await eventually(async () => { const s = await spread(); return s.size === 1 && s.has('c1'); });
  a1.healthStatus = 200;
  a2.healthStatus = 200;
  await eventually(async () => { const s = await spread(); return s.size === 2 && s.has('a1') && s.has('a2'); });
});
