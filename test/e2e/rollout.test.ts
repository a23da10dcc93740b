/**
 * Progressive migration end to end through a real `ferry run`: the productcatalog Rollout (mirror and
 * diff, then 20%, 50%, 100%) with a client running the whole time and no failed request; automatic
 * rollback when the candidate starts failing, slows down or answers different JSON, with the time from
 * the fault to the rollback measured at about 100 requests per second; and a restart in the middle of
 * a rollout resuming at the same step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { startEchoServer, type Upstream } from '../support/upstreams.ts';
import { startFerry, type FerryProcess } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { makeConfigDir, gatewayYaml, serviceYaml, splitRouteYaml, type ConfigDir } from './config.ts';
import { adminJson } from './client.ts';

interface Fault { errorRate: number; delayMs: number; price: number }

/** A productcatalog copy: the same JSON from every healthy copy (with a timestamp that differs every call). */
async function startCatalog(name: string): Promise<Upstream & { fault: Fault }> {
  const fault: Fault = { errorRate: 0, delayMs: 0, price: 10 };
  let n = 0;
  const up = await startEchoServer({
    name,
    handler: (_req, anyRes) => {
      const res = anyRes as import('node:http').ServerResponse;
      const respond = () => {
        n++;
        if (fault.errorRate > 0 && n % Math.round(1 / fault.errorRate) === 0) {
          res.writeHead(500, { 'x-copy': name });
          res.end('failure');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'x-copy': name });
        res.end(JSON.stringify({ product: { id: 1, name: 'lamp', price: fault.price }, generatedAt: `${Date.now()}-${n}` }));
      };
      if (fault.delayMs > 0) setTimeout(respond, fault.delayMs);
      else respond();
      return true;
    },
  });
  return Object.assign(up, { fault });
}

/** Calls the gateway at a steady pace (about `rps`), counting answers per copy and failures. */
class Pacer {
  readonly failures: string[] = [];
  readonly byCopy = new Map<string, number>();
  #pool: Pool;
  #timer: NodeJS.Timeout | null = null;
  #inflight = new Set<Promise<void>>();
  #tolerateCandidate: boolean;
  /** `tolerateCandidate`: the candidate's own failures are the fault under test, not a failed request. */
  constructor(url: string, rps: number, tolerateCandidate = false) {
    this.#tolerateCandidate = tolerateCandidate;
    this.#pool = new Pool(url, { connections: 16 });
    this.#timer = setInterval(() => {
      for (let i = 0; i < rps / 50; i++) {
        const p = this.#one().finally(() => this.#inflight.delete(p));
        this.#inflight.add(p);
      }
    }, 20);
  }
  async #one(): Promise<void> {
    try {
      const res = await this.#pool.request({ path: '/products/1', method: 'GET' });
      await res.body.text();
      const copy = String(res.headers['x-copy'] ?? '?');
      this.byCopy.set(copy, (this.byCopy.get(copy) ?? 0) + 1);
      if (res.statusCode !== 200 && !(this.#tolerateCandidate && copy === 'k8s')) this.failures.push(`${res.statusCode} from ${copy}`);
    } catch (err) {
      this.failures.push((err as Error).message);
    }
  }
  async stop(): Promise<void> {
    if (this.#pool.closed || this.#pool.destroyed) return;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await Promise.all(this.#inflight);
    await this.#pool.close();
  }
}

const rolloutYaml = (steps: string, analysis = '') => `
apiVersion: ferry.dev/v1alpha1
kind: Rollout
metadata: {name: productcatalog, namespace: default}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: productcatalog, rule: 0}
  stable: {name: productcatalog-vm, port: 8080}
  candidate: {name: productcatalog-k8s, port: 8080}
  analysis:
    interval: 500ms
    window: 3s
    minSamples: 20
    successRate: {min: 99}
    latency: {percentile: 90, maxRatio: 1.5, maxMs: 500, toleranceMs: 25}
    diff: {maxRate: 1}
    failureLimit: 0
${analysis}
  mirror: {noise: true, ignore: {headers: [x-copy]}}
  steps:
${steps}
`;

interface RolloutView { phase: string; step: number; totalSteps: number; message: string; override: { weights: { stable: number; candidate: number } } }

async function setup(t: { after: (fn: () => Promise<void>) => void }, steps: string) {
  const vm = await startCatalog('vm');
  const k8s = await startCatalog('k8s');
  const state = await mkdtemp(join(tmpdir(), 'ferry-state-'));
  const cfg = await makeConfigDir({
    'gateway.yaml': gatewayYaml(),
    'services.yaml': serviceYaml('productcatalog-vm', [vm.port]) + '---' + serviceYaml('productcatalog-k8s', [k8s.port]),
    'route.yaml': splitRouteYaml('productcatalog', [['productcatalog-vm', 1]]),
    'rollout.yaml': rolloutYaml(steps),
  });
  const args = ['--config', cfg.dir, '--bind', 'default/edge/80=127.0.0.1:0', '--admin', '127.0.0.1:0', '--access-log', 'off', '--state-file', join(state, 'rollouts.json')];
  const env = { ferry: await startFerry(args) };
  t.after(async () => {
    await env.ferry.stop();
    await Promise.all([vm.close(), k8s.close(), cfg.remove(), rm(state, { recursive: true, force: true })]);
  });
  const ready = await env.ferry.waitForReady();
  return {
    vm, k8s, cfg, args, env,
    gateway: `http://127.0.0.1:${ready.sockets[0].port}`,
    admin: `http://127.0.0.1:${ready.admin!.port}`,
  };
}

const status = async (admin: string) => (await adminJson(admin, '/rollouts/default/productcatalog')) as RolloutView;

test('productcatalog moves VM → Kubernetes through mirror, 20%, 50%, 100% with no failed request', async (t) => {
  const s = await setup(t, `
    - mirror: {percent: 100, duration: 3s}
    - {weight: 20, duration: 3s}
    - {weight: 50, duration: 3s}
    - weight: 100`);
  const client = new Pacer(s.gateway, 100);
  t.after(() => client.stop());
  const seen: string[] = [];
  await eventually(async () => {
    const st = await status(s.admin);
    const label = `${st.phase}:${st.step}`;
    if (seen.at(-1) !== label) seen.push(label);
    assert.equal(st.phase, 'Completed', st.message);
  }, { timeoutMs: 60_000, intervalMs: 100 });
  await client.stop();
  assert.deepEqual(client.failures, [], 'no request failed during the move');
  assert.ok(s.k8s.requests.length > 0 && s.vm.requests.length > 0);
  for (const step of ['Progressing:0', 'Progressing:1', 'Progressing:2']) assert.ok(seen.includes(step), `passed through ${step}: ${seen.join(' ')}`);
  const diffs = await adminJson(s.admin, '/diffs/default/productcatalog') as { compared: number; differing: number };
  assert.ok(diffs.compared > 0, 'mirrored responses were compared');
  assert.equal(diffs.differing, 0, 'the timestamp that differs on every call is noise, not a difference');
  // Completed: everything on the Kubernetes copy.
  const res = await fetch(`${s.gateway}/products/1`);
  assert.equal(res.headers.get('x-copy'), 'k8s');
});

for (const [fault, inject] of [
  ['5% errors', (f: Fault) => { f.errorRate = 0.05; }],
  ['twice the latency', (f: Fault) => { f.delayMs = 100; }],
  ['different JSON', (f: Fault) => { f.price = 12; }],
] as const) {
  test(`a candidate with ${fault} is rolled back automatically`, async (t) => {
    const mirrorFirst = fault === 'different JSON';
    const s = await setup(t, mirrorFirst ? `
    - mirror: {percent: 100, duration: 30s}
    - weight: 100` : `
    - weight: 20
    - pause: {}`);
    if (fault === 'twice the latency') s.vm.fault.delayMs = 50;
    const client = new Pacer(s.gateway, 100, true);
    t.after(() => client.stop());
    await eventually(async () => {
      const st = await status(s.admin);
      assert.equal(st.phase, mirrorFirst ? 'Progressing' : 'Paused', st.message);
      if (!mirrorFirst) assert.equal(st.step, 1);
    }, { timeoutMs: 30_000, intervalMs: 100 });
    const faultAt = performance.now();
    inject(s.k8s.fault);
    await eventually(async () => {
      const st = await status(s.admin);
      if (process.env.FERRY_DEBUG_ROLLOUT) t.diagnostic(`${((performance.now() - faultAt) / 1000).toFixed(1)} ${st.message} ${JSON.stringify((st as unknown as { lastAnalysis: unknown }).lastAnalysis)}`);
      assert.equal(st.phase, 'RolledBack');
    }, { timeoutMs: 30_000, intervalMs: 500 });
    const rolledBackMs = performance.now() - faultAt;
    t.diagnostic(`${fault}: fault to rollback ${(rolledBackMs / 1000).toFixed(2)} s at 100 req/s`);
    const before = s.k8s.requests.length;
    const vmBefore = client.byCopy.get('vm') ?? 0;
    await eventually(() => (client.byCopy.get('vm') ?? 0) > vmBefore + 100, { timeoutMs: 10_000 });
    assert.ok(s.k8s.requests.length - before <= 5, 'after the rollback the candidate gets no live traffic');
    assert.ok(rolledBackMs < 15_000, `rolled back in ${rolledBackMs.toFixed(0)} ms`);
    await client.stop();
    assert.deepEqual(client.failures, [], 'the stable copy never failed');
  });
}

test('a restarted Ferry resumes the rollout at the same step', async (t) => {
  const s = await setup(t, `
    - {weight: 20, duration: 1s}
    - pause: {}
    - weight: 100`);
  const client = new Pacer(s.gateway, 100);
  t.after(() => client.stop());
  await eventually(async () => {
    const st = await status(s.admin);
    assert.equal(st.phase, 'Paused');
    assert.equal(st.step, 1);
  }, { timeoutMs: 30_000, intervalMs: 100 });
  await client.stop();
  await s.env.ferry.stop();
  s.env.ferry = await startFerry(s.args);
  const ready = await s.env.ferry.waitForReady();
  const admin = `http://127.0.0.1:${ready.admin!.port}`;
  const st = await status(admin);
  assert.equal(st.phase, 'Paused', 'still paused after the restart');
  assert.equal(st.step, 1, 'at the same step');
  assert.deepEqual(st.override.weights, { stable: 80, candidate: 20 }, 'never jumping to 100% of either copy');
  await eventually(async () => {
    const config = await adminJson(admin, '/config') as { splits: Record<string, { declared: number[]; effective: number[]; setBy: string }> };
    const split = config.splits['HTTPRoute/default/productcatalog/rule/0'];
    assert.deepEqual(split, {
      ...split, declared: [1, 0], effective: [80, 20], setBy: 'Rollout default/productcatalog',
    }, '/config shows the declared and the effective weights, and who set them');
  });
  const again = new Pacer(`http://127.0.0.1:${ready.sockets[0].port}`, 100);
  t.after(() => again.stop());
  const res = await fetch(`${admin}/rollouts/default/productcatalog/promote`, { method: 'POST' });
  assert.equal(res.status, 200);
  await eventually(async () => assert.equal((await status(admin)).phase, 'Completed'), { timeoutMs: 30_000 });
});
