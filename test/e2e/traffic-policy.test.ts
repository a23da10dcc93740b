/**
 * TrafficPolicy through a real `ferry run`: each block of the policy, written as YAML, compiled and
 * served, changes where requests go. Active HTTP health checks take a failing endpoint out and put it
 * back; outlier detection with backend retries hides a failing endpoint from clients and ejects it
 * for the configured time; cookie affinity holds across a weighted split between two Services while
 * new users spread over both; header hashing pins a key to one endpoint; locality priorities with TCP
 * health checks fail over from the east cluster to the VM and back (across reloads that keep the
 * health of unchanged endpoints); the circuit breaker refuses the request above its limit at once;
 * and /status reports which of two policies on one target applies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { Pool } from 'undici';
import { startEchoServer, refusedPort, type Upstream } from '../support/upstreams.ts';
import { startFerry } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { makeConfigDir, gatewayYaml, serviceYaml, splitRouteYaml, type ConfigDir } from './config.ts';
import { adminJson } from './client.ts';

interface Answer {
  status: number;
  /** The echo server's name, or null when Ferry answered itself. */
  name: string | null;
  body: string;
  setCookies: string[];
}

interface Gateway {
  cfg: ConfigDir;
  admin: string;
  get(path?: string, headers?: Record<string, string>): Promise<Answer>;
  /** `n` sequential requests: answers per upstream name, and every non-200 as `status body`. */
  batch(n: number, path?: string, headers?: Record<string, string>): Promise<{ by: Map<string, number>; failures: string[] }>;
}

type After = { after: (fn: () => Promise<void>) => void };

/** Writes `files` next to a Gateway `edge`, starts `ferry run` on them, and cleans everything up after the test. */
async function serve(t: After, files: Record<string, string>, upstreams: Upstream[]): Promise<Gateway> {
  const cfg = await makeConfigDir({ 'gateway.yaml': gatewayYaml(), ...files });
  const ferry = startFerry(['--config', cfg.dir, '--bind', 'default/edge/80=127.0.0.1:0', '--admin', '127.0.0.1:0', '--access-log', 'off']);
  let pool: Pool | undefined;
  t.after(async () => {
    await pool?.destroy();
    await ferry.stop();
    await Promise.all([...upstreams.map((u) => u.close()), cfg.remove()]);
  });
  const ready = await ferry.waitForReady();
  pool = new Pool(`http://127.0.0.1:${ready.sockets[0].port}`, { connections: 16 });
  const p = pool;
  const get = async (path = '/', headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await p.request({ path, method: 'GET', headers });
    const body = await res.body.text();
    const sc = res.headers['set-cookie'];
    const setCookies = sc === undefined ? [] : Array.isArray(sc) ? sc : [sc];
    const echoed = res.headers['x-echo-name'];
    return { status: res.statusCode, name: typeof echoed === 'string' ? echoed : null, body, setCookies };
  };
  return {
    cfg,
    admin: `http://127.0.0.1:${ready.admin!.port}`,
    get,
    async batch(n, path = '/', headers = {}) {
      const by = new Map<string, number>();
      const failures: string[] = [];
      for (let i = 0; i < n; i++) {
        const a = await get(path, headers);
        if (a.status !== 200 || a.name === null) failures.push(`${a.status} ${a.body.slice(0, 60)}`);
        else by.set(a.name, (by.get(a.name) ?? 0) + 1);
      }
      return { by, failures };
    },
  };
}

const count = (by: Map<string, number>, ...names: string[]) => names.reduce((s, n) => s + (by.get(n) ?? 0), 0);
const show = (by: Map<string, number>) => JSON.stringify(Object.fromEntries([...by].sort()));

/** Requests the upstream received other than Ferry's health probes. */
const proxied = (u: Upstream) => u.requests.filter((r) => r.headers['user-agent'] !== 'ferry-health-check').length;

/** A Backend of static 127.0.0.1 endpoints, served on every path by HTTPRoute `app`. */
const backendYaml = (name: string, ports: number[]) => `
apiVersion: ferry.dev/v1alpha1
kind: Backend
metadata: {name: ${name}, namespace: default}
spec:
  sources:
    - static:
        endpoints: [${ports.map((p) => `{address: 127.0.0.1, port: ${p}}`).join(', ')}]
`;

const routeToBackend = (backend: string, prefix = '/', name = 'app') => `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: default}
spec:
  parentRefs: [{name: edge}]
  rules:
    - matches: [{path: {type: PathPrefix, value: ${prefix}}}]
      backendRefs: [{group: ferry.dev, kind: Backend, name: ${backend}}]
`;

const policyYaml = (name: string, targets: string, spec: string, created = '2024-01-01T00:00:00Z') => `
apiVersion: ferry.dev/v1alpha1
kind: TrafficPolicy
metadata: {name: ${name}, namespace: default, creationTimestamp: "${created}"}
spec:
  targetRefs: ${targets}
${spec}`;

interface MetricsSample { name: string; labels: Record<string, string>; value: number }

async function metrics(admin: string): Promise<MetricsSample[]> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const out: MetricsSample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? ([0-9.e+-]+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** `ferry_upstream_events_total` of one backend and event type (0 when absent). */
async function upstreamEvents(admin: string, backend: string, type: string): Promise<number> {
  return (await metrics(admin))
    .filter((s) => s.name === 'ferry_upstream_events_total' && s.labels.backend === backend && s.labels.type === type)
    .reduce((sum, s) => sum + s.value, 0);
}

interface StatusView {
  resources: { kind: string; name: string; accepted: boolean; parents: { parentRef: string; conditions: { type: string; status: string; reason: string; message: string }[] }[] }[];
  errors: { severity: string; kind?: string; name?: string; field: string; message: string }[];
  sources: { key: string; endpoints: number }[];
}

interface ConfigView {
  backends: Record<string, { policy: { source: string | null } }>;
  endpoints: Record<string, { address: string; port: number }[]>;
}

test('an active HTTP health check takes a failing endpoint out of rotation and brings it back', async (t) => {
  let sick = false;
  const a = await startEchoServer({ name: 'a' });
  const b = await startEchoServer({ name: 'b' });
  const c = await startEchoServer({
    name: 'c',
    handler: (req, res) => {
      if (req.url !== '/healthz' || !sick) return false;
      (res as ServerResponse).writeHead(500).end('sick');
      return true;
    },
  });
  const gw = await serve(t, {
    'app.yaml': backendYaml('app', [a.port, b.port, c.port]) + '---' + routeToBackend('app') + '---' + policyYaml('checks', '[{group: ferry.dev, kind: Backend, name: app}]', `
  healthCheck: {http: {path: /healthz}, interval: 200ms, timeout: 200ms, unhealthyThreshold: 2, healthyThreshold: 1}
`),
  }, [a, b, c]);

  const before = await gw.batch(60, '/items');
  assert.deepEqual(before.failures, []);
  assert.ok(count(before.by, 'c') >= 10, `c serves its share while healthy: ${show(before.by)}`);
  await eventually(() => assert.ok(c.requests.some((r) => r.url === '/healthz' && r.headers['user-agent'] === 'ferry-health-check'), 'probes GET /healthz'));

  sick = true;
  await eventually(async () => {
    const { by, failures } = await gw.batch(60, '/items');
    assert.deepEqual(failures, []);
    assert.equal(count(by, 'c'), 0, `c still gets traffic: ${show(by)}`);
  }, { timeoutMs: 5000, message: 'c leaves the rotation once its probes fail' });
  const cBefore = proxied(c);
  const out = await gw.batch(60, '/items');
  assert.deepEqual(out.failures, []);
  assert.equal(count(out.by, 'c'), 0, `no traffic to the unhealthy endpoint: ${show(out.by)}`);
  assert.ok(count(out.by, 'a') >= 15 && count(out.by, 'b') >= 15, `a and b share the load: ${show(out.by)}`);
  assert.equal(proxied(c), cBefore, 'c received no proxied request');

  // Unhealthy is not removed: the endpoint is still listed.
  const config = await adminJson(gw.admin, '/config') as ConfigView;
  assert.deepEqual(config.endpoints['Backend/default/app'].map((e) => e.port).sort(), [a.port, b.port, c.port].sort());
  const status = await adminJson(gw.admin, '/status') as StatusView;
  assert.equal(status.sources.find((s) => s.key === 'static|Backend/default/app|0')?.endpoints, 3);

  sick = false;
  await eventually(async () => {
    const { by, failures } = await gw.batch(60, '/items');
    assert.deepEqual(failures, []);
    assert.ok(count(by, 'c') >= 10, `c is back in rotation: ${show(by)}`);
  }, { timeoutMs: 5000, message: 'c returns once a probe passes' });
});

test('outlier detection ejects an endpoint answering 503 while backend retries hide it from clients', async (t) => {
  const good1 = await startEchoServer({ name: 'good-1' });
  const good2 = await startEchoServer({ name: 'good-2' });
  const bad = await startEchoServer({ name: 'bad', status: 503 });
  const gw = await serve(t, {
    'app.yaml': backendYaml('app', [good1.port, good2.port, bad.port]) + '---' + routeToBackend('app') + '---' + policyYaml('outliers', '[{group: ferry.dev, kind: Backend, name: app}]', `
  outlierDetection: {consecutive5xx: 3, baseEjectionTime: 2s, interval: 500ms, maxEjectionPercent: 50}
  retry: {attempts: 2, retryOn: [5xx]}
`),
  }, [good1, good2, bad]);
  const backend = 'Backend/default/app';

  // Round robin over three endpoints: every third attempt meets `bad`, and is retried elsewhere.
  const beforeEjection = performance.now();
  const first = await gw.batch(15, '/items');
  assert.deepEqual(first.failures, [], 'the 503s are retried on another endpoint');
  assert.ok(bad.requests.length >= 3, `bad was tried (${bad.requests.length})`);
  await eventually(async () => assert.ok(await upstreamEvents(gw.admin, backend, 'ejected') >= 1), { message: 'bad is ejected' });

  const seen = bad.requests.length;
  const during = await gw.batch(60, '/items');
  assert.deepEqual(during.failures, []);
  assert.ok(count(during.by, 'good-1') >= 20 && count(during.by, 'good-2') >= 20, show(during.by));
  // The ejection started after `beforeEjection` and lasts 2 s. On a machine so slow that the batch
  // ended later than that, bad may have come back once meanwhile: three tries, then ejected again.
  const late = performance.now() - beforeEjection >= 2000;
  assert.ok(bad.requests.length - seen <= (late ? 3 : 0), `bad got ${bad.requests.length - seen} of 60 requests while ejected${late ? ' (a slow batch)' : ''}`);

  // baseEjectionTime is 2 s, not the 30 s default: bad is tried again, fails 3 times and is ejected again.
  await eventually(async () => {
    const { failures } = await gw.batch(10, '/items');
    assert.deepEqual(failures, []);
    assert.ok(bad.requests.length > seen, 'bad is tried again');
  }, { timeoutMs: 6000, message: 'bad returns after its ejection time' });
  // Keep traffic flowing: the second ejection needs three more consecutive failures on bad.
  await eventually(async () => {
    const { failures } = await gw.batch(10, '/items');
    assert.deepEqual(failures, []);
    assert.ok(await upstreamEvents(gw.admin, backend, 'ejected') >= 2);
  }, { message: 'bad is ejected again' });
  assert.ok(await upstreamEvents(gw.admin, backend, 'uneject') >= 1);
});

test('hash affinity: cookie across a weighted split, header hashing, and which of two policies applies', async (t) => {
  const ups = new Map<string, Upstream>();
  for (const n of ['a-1', 'a-2', 'b-1', 'b-2', 'h-1', 'h-2', 'h-3']) ups.set(n, await startEchoServer({ name: n }));
  const port = (n: string) => ups.get(n)!.port;
  const services = (name: string, ends: string[]) => serviceYaml(name, ends.map(port));
  const gw = await serve(t, {
    'services.yaml': services('svc-a', ['a-1', 'a-2']) + '---' + services('svc-b', ['b-1', 'b-2']),
    'routes.yaml': splitRouteYaml('app', [['svc-a', 50], ['svc-b', 50]]) + '---' + backendYaml('hashed', [port('h-1'), port('h-2'), port('h-3')]) + '---' + routeToBackend('hashed', '/by-header', 'hashed'),
    'policies.yaml': policyYaml('affinity', '[{group: "", kind: Service, name: svc-a}, {group: "", kind: Service, name: svc-b}]', `
  loadBalancer: {type: RingHash, hashOn: {cookie: {name: user, ttl: 1h}}}
`) + '---' + policyYaml('aaa-later', '[{group: "", kind: Service, name: svc-a}]', `
  loadBalancer: {type: Random}
`, '2024-06-01T00:00:00Z') + '---' + policyYaml('by-header', '[{group: ferry.dev, kind: Backend, name: hashed}]', `
  loadBalancer: {type: RingHash, hashOn: {header: {name: x-user}}}
`),
  }, [...ups.values()]);
  const side = (name: string) => name.slice(0, 1);

  await t.test('cookie affinity holds across a 50/50 split of two Services', async () => {
    const users: { cookie: string; first: string }[] = [];
    for (let u = 0; u < 30; u++) {
      const first = await gw.get('/cart');
      assert.equal(first.status, 200, first.body);
      assert.equal(first.setCookies.length, 1, `one cookie for a new user: ${first.setCookies.join(' | ')}`);
      const m = /^user=([0-9a-f]{32}); Path=\/; HttpOnly; Max-Age=3600$/.exec(first.setCookies[0]);
      assert.ok(m, `Set-Cookie: ${first.setCookies[0]}`);
      users.push({ cookie: `user=${m[1]}`, first: first.name! });
      for (let i = 1; i < 8; i++) {
        const again = await gw.get(`/cart/${i}`, { cookie: `theme=dark; ${users[u].cookie}` });
        assert.equal(again.status, 200, again.body);
        assert.equal(again.name, first.name, `user ${u} moved on request ${i + 1}`);
        assert.deepEqual(again.setCookies, [], 'no new cookie for a known user');
      }
    }
    // New users spread over both Services, and within each over both endpoints.
    const firsts = users.map((u) => u.first);
    for (let u = 0; u < 170; u++) {
      const a = await gw.get('/');
      assert.equal(a.status, 200, a.body);
      firsts.push(a.name!);
    }
    const onA = firsts.filter((n) => side(n) === 'a').length;
    assert.ok(onA >= 60 && onA <= 140, `${onA} of 200 new users on svc-a`);
    for (const n of ['a-1', 'a-2', 'b-1', 'b-2']) assert.ok(firsts.includes(n), `${n} gets new users`);
  });

  await t.test('header hashing pins each x-user to one endpoint', async () => {
    const chosen = new Set<string>();
    for (let u = 0; u < 20; u++) {
      const { by, failures } = await gw.batch(6, '/by-header/x', { 'x-user': `user-${u}` });
      assert.deepEqual(failures, []);
      assert.equal(by.size, 1, `user-${u} reached ${show(by)}`);
      chosen.add([...by.keys()][0]);
    }
    assert.ok(chosen.size >= 2, `20 users spread over endpoints: ${[...chosen]}`);
    const anonymous = await gw.batch(30, '/by-header/x');
    assert.deepEqual(anonymous.failures, []);
    assert.equal(anonymous.by.size, 3, `without the header, requests are balanced: ${show(anonymous.by)}`);
    const answer = await gw.get('/by-header/x', { 'x-user': 'user-1' });
    assert.deepEqual(answer.setCookies, [], 'header hashing sets no cookie');
  });

  await t.test('/status: the oldest policy on a target is Accepted, the other Conflicted', async () => {
    const status = await adminJson(gw.admin, '/status') as StatusView;
    assert.deepEqual(status.errors.filter((e) => e.severity === 'error'), []);
    const policy = (name: string) => {
      const r = status.resources.find((x) => x.kind === 'TrafficPolicy' && x.name === name);
      assert.ok(r, `TrafficPolicy ${name} in /status`);
      return r;
    };
    const cond = (name: string, target: string, type: string) => {
      const parent = policy(name).parents.find((p) => p.parentRef === target);
      assert.ok(parent, `${name} reports ${target}: ${JSON.stringify(policy(name).parents.map((p) => p.parentRef))}`);
      const c = parent.conditions.find((x) => x.type === type);
      assert.ok(c, `${name} has ${type} for ${target}`);
      return c;
    };
    for (const target of ['Service/default/svc-a', 'Service/default/svc-b']) {
      assert.equal(cond('affinity', target, 'Accepted').status, 'True', target);
      assert.equal(cond('affinity', target, 'Conflicted').status, 'False', target);
    }
    const accepted = cond('aaa-later', 'Service/default/svc-a', 'Accepted');
    assert.deepEqual([accepted.status, accepted.reason], ['False', 'Conflicted']);
    assert.match(accepted.message, /default\/affinity/, 'names the policy that applies');
    assert.equal(cond('aaa-later', 'Service/default/svc-a', 'Conflicted').status, 'True');
    assert.equal(cond('by-header', 'Backend/default/hashed', 'Accepted').status, 'True');

    const config = await adminJson(gw.admin, '/config') as ConfigView;
    const sources = Object.entries(config.backends).map(([id, b]) => `${id}=${b.policy.source}`).sort();
    assert.deepEqual(sources, ['Backend/default/hashed=default/by-header', 'Service/default/svc-a:8080=default/affinity', 'Service/default/svc-b:8080=default/affinity']);
  });
});

test('locality failover: east while healthy, the VM when east is down, east again when it is back', async (t) => {
  const vm = await startEchoServer({ name: 'vm' });
  const east1 = await startEchoServer({ name: 'east-1' });
  const east2 = await startEchoServer({ name: 'east-2' });
  const later: Upstream[] = [];
  const backend = (east: number[]) => `
apiVersion: ferry.dev/v1alpha1
kind: Backend
metadata: {name: catalog, namespace: default}
spec:
  sources:
    - static:
        endpoints: [${east.map((p) => `{address: 127.0.0.1, port: ${p}}`).join(', ')}]
        labels: {ferry.dev/cluster: east}
    - static:
        endpoints: [{address: 127.0.0.1, port: ${vm.port}}]
        labels: {ferry.dev/platform: vm}
`;
  const gw = await serve(t, {
    'backend.yaml': backend([east1.port, east2.port]),
    'rest.yaml': routeToBackend('catalog') + '---' + policyYaml('failover', '[{group: ferry.dev, kind: Backend, name: catalog}]', `
  healthCheck: {tcp: {}, interval: 200ms, timeout: 200ms}
  retry: {attempts: 2, retryOn: [connect-failure]}
  locality:
    priorities: [{matchLabels: {ferry.dev/cluster: east}}, {matchLabels: {ferry.dev/platform: vm}}]
    minHealthyPercent: 70
`),
  }, [vm, east1, east2]);
  t.after(() => Promise.all(later.map((u) => u.close())).then(() => {}));
  const id = 'Backend/default/catalog';

  const healthy = await gw.batch(60, '/products');
  assert.deepEqual(healthy.failures, []);
  assert.equal(count(healthy.by, 'vm'), 0, `level 0 takes everything while healthy: ${show(healthy.by)}`);
  assert.ok(count(healthy.by, 'east-1') > 0 && count(healthy.by, 'east-2') > 0, show(healthy.by));

  // East goes down: a few requests may fail while the probes notice, none afterwards.
  await Promise.all([east1.close(), east2.close()]);
  const detecting: string[] = [];
  await eventually(async () => {
    const { by, failures } = await gw.batch(60, '/products');
    detecting.push(...failures);
    assert.deepEqual(failures, []);
    assert.equal(count(by, 'vm'), 60, show(by));
  }, { timeoutMs: 5000, message: 'traffic fails over to the VM' });
  const failedOver = await gw.batch(100, '/products');
  assert.deepEqual(failedOver.failures, [], `no failure once east is known down (${detecting.length} during detection)`);
  assert.equal(count(failedOver.by, 'vm'), 100);

  // A reload replaces east-2 by a new instance and adds an east address where nothing listens yet,
  // keeping east-1 (still down). Health survives the reload: east-1 stays unhealthy and gets no
  // attempt; new endpoints start unhealthy, so the dead address gets none either and east-3 joins
  // once its first probe passes. With one of three east endpoints healthy, east takes 47% (1/3 x
  // 100/70) and the VM the rest.
  const east3 = await startEchoServer({ name: 'east-3' });
  later.push(east3);
  const connectErrors = await upstreamEvents(gw.admin, id, 'connect_error');
  await gw.cfg.write('backend.yaml', backend([east1.port, east3.port, await refusedPort()]));
  await eventually(async () => {
    const { by, failures } = await gw.batch(30, '/products');
    assert.deepEqual(failures, []);
    assert.ok(count(by, 'east-3') > 0, show(by));
  }, { timeoutMs: 10_000, message: 'the new east instance gets traffic after the reload' });
  const partial = await gw.batch(200, '/products');
  assert.deepEqual(partial.failures, []);
  assert.ok(count(partial.by, 'east-3') >= 65 && count(partial.by, 'east-3') <= 125, `east keeps about 47%: ${show(partial.by)}`);
  assert.equal(await upstreamEvents(gw.admin, id, 'connect_error'), connectErrors, 'no attempt went to an east endpoint that is down');

  // East is whole again: all traffic returns to it.
  const east4 = await startEchoServer({ name: 'east-4' });
  later.push(east4);
  await gw.cfg.write('backend.yaml', backend([east3.port, east4.port]));
  await eventually(async () => {
    const { by, failures } = await gw.batch(60, '/products');
    assert.deepEqual(failures, []);
    assert.equal(count(by, 'vm'), 0, show(by));
    assert.ok(count(by, 'east-4') > 0, show(by));
  }, { timeoutMs: 10_000, message: 'traffic returns to east' });
  const back = await gw.batch(60, '/products');
  assert.deepEqual(back.failures, []);
  assert.equal(count(back.by, 'east-3') + count(back.by, 'east-4'), 60, show(back.by));
});

test('the circuit breaker refuses the request above maxRequests at once', async (t) => {
  // maxPendingRequests must be at least 1; with maxRequests 2 the third attempt is refused whatever it is.
  const slow = await startEchoServer({ name: 'slow', delayMs: 500 });
  const gw = await serve(t, {
    'app.yaml': backendYaml('app', [slow.port]) + '---' + routeToBackend('app') + '---' + policyYaml('breaker', '[{group: ferry.dev, kind: Backend, name: app}]', `
  circuitBreaker: {maxRequests: 2, maxPendingRequests: 1}
`),
  }, [slow]);
  // Warm up (first connection, first compile of the request path), then fill the two slots.
  assert.equal((await gw.get('/warm')).status, 200);
  const held = [gw.get('/one'), gw.get('/two')];
  await eventually(() => slow.requests.filter((r) => r.url !== '/warm').length === 2, { message: 'two requests in flight' });
  const started = performance.now();
  const third = await gw.get('/three');
  const ms = performance.now() - started;
  assert.equal(third.status, 503, third.body);
  assert.match(third.body, /overflow/);
  assert.ok(ms < 100, `refused in ${Math.round(ms)} ms, not after the upstream's 500 ms`);
  assert.equal(slow.requests.some((r) => r.url === '/three'), false, 'the refused request never reached the upstream');
  for (const a of await Promise.all(held)) assert.equal(a.status, 200, a.body);
  assert.equal((await gw.get('/after')).status, 200, 'slots free up once the requests finish');
  assert.ok(await upstreamEvents(gw.admin, 'Backend/default/app', 'overflow') >= 1);
});
