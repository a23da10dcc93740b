/** Rollout target resolution (route, rule, backends, grants, conflicts) and what an override changes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatConfigError } from '../lib/index.ts';
import { parseYamlFiles, type RolloutResource } from '../resources/index.ts';
import { CANDIDATE_ONLY, resolveRollout, type TrafficOverride } from '../rollout/index.ts';
import { compile } from './compile.ts';
import type { TrafficOverrideInput } from './rollout-overrides.ts';

const BASE = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  gatewayClassName: ferry
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: vm, namespace: shop}, spec: {ports: [{port: 80}]}}
- {apiVersion: v1, kind: Service, metadata: {name: k8s, namespace: shop}, spec: {ports: [{port: 80}]}}
- {apiVersion: v1, kind: Service, metadata: {name: k8s, namespace: apps}, spec: {ports: [{port: 80}]}}
---
apiVersion: ferry.dev/v1alpha1
kind: Backend
metadata: {name: cloud, namespace: shop}
spec: {sources: [{static: {endpoints: [{address: 10.0.0.1, port: 80}]}}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: gw}]
  rules:
  - name: pages
    matches: [{path: {value: /pages}}]
    backendRefs: [{name: vm, port: 80, weight: 7}, {name: vm, port: 80, weight: 2}]
  - name: api
    matches: [{path: {value: /api}}]
    backendRefs: [{name: vm, port: 80}]
`;

function rollout(name: string, spec: string, created?: string): string {
  const ts = created ? `, creationTimestamp: "${created}"` : '';
  return `---\napiVersion: ferry.dev/v1alpha1\nkind: Rollout\nmetadata: {name: ${name}, namespace: shop${ts}}\nspec:\n  steps: [{weight: 100}]\n${spec}`;
}

const TO_API = `  targetRef: {kind: HTTPRoute, name: web, rule: api}
  stable: {name: vm, port: 80}
  candidate: {name: k8s, port: 80}
`;

function run(extra: string, overrides?: Record<string, TrafficOverrideInput>) {
  const parsed = parseYamlFiles([{ path: 'c.yaml', text: BASE + extra }]);
  assert.deepEqual(parsed.errors.map(formatConfigError), []);
  const result = compile({ resources: parsed.resources, ...(overrides ? { overrides: new Map(Object.entries(overrides)) } : {}) });
  const messages = result.report.errors.filter((e) => e.kind === 'Rollout').map((e) => `${e.name} ${e.severity} ${e.field}: ${e.message}`);
  return { ...result, messages };
}

const weights = (stable: number, candidate: number): TrafficOverrideInput => ({ weights: { stable, candidate }, mirror: null, headerGate: null, sticky: null });

describe('Rollout targets', () => {
  it('resolves the rule by name or index to its id, and both backends to backend ids', () => {
    for (const rule of ['api', '1']) {
      const { rollouts, messages } = run(rollout('r', TO_API.replace('rule: api', `rule: ${rule}`)));
      assert.deepEqual(messages, []);
      assert.deepEqual(rollouts['shop/r'], {
        namespace: 'shop',
        name: 'r',
        spec: rollouts['shop/r'].spec,
        targets: { ruleId: 'HTTPRoute/shop/web/rule/1', stableBackendId: 'Service/shop/vm:80', candidateBackendId: 'Service/shop/k8s:80' },
        problem: null,
      });
    }
  });

  it('needs targetRef.rule when the route has several rules, and not when it has one', () => {
    const { rollouts } = run(rollout('r', TO_API.replace(', rule: api', '')));
    assert.equal(rollouts['shop/r'].targets, null);
    assert.equal(rollouts['shop/r'].problem, 'HTTPRoute shop/web has 2 rules; set targetRef.rule to a rule index or name');
    const single = `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: one, namespace: shop}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: vm, port: 80}]}]
`;
    const ok = run(single + rollout('r', TO_API.replace('name: web, rule: api', 'name: one')));
    assert.equal(ok.rollouts['shop/r'].targets?.ruleId, 'HTTPRoute/shop/one/rule/0');
  });

  it('looks for the route in its own namespace and of the named kind', () => {
    const { rollouts } = run(rollout('r', TO_API.replace('kind: HTTPRoute', 'kind: GRPCRoute')));
    assert.equal(rollouts['shop/r'].problem, 'GRPCRoute shop/web not found (a Rollout targets a route in its own namespace)');
  });

  it('resolves a Backend candidate and refuses stable and candidate naming one backend', () => {
    const backend = run(rollout('r', TO_API.replace('{name: k8s, port: 80}', '{group: ferry.dev, kind: Backend, name: cloud}')));
    assert.equal(backend.rollouts['shop/r'].targets?.candidateBackendId, 'Backend/shop/cloud');
    const same = run(rollout('r', TO_API.replace('{name: vm, port: 80}', '{group: ferry.dev, kind: Backend, name: cloud, port: 1}').replace('{name: k8s, port: 80}', '{group: ferry.dev, kind: Backend, name: cloud}')));
    assert.equal(same.rollouts['shop/r'].problem, 'stable and candidate are the same backend (Backend/shop/cloud)');
  });

  it('allows another namespace with a ReferenceGrant from the route kind or from Rollouts', () => {
    const cross = TO_API.replace('{name: k8s, port: 80}', '{name: k8s, namespace: apps, port: 80}');
    const denied = run(rollout('r', cross));
    assert.equal(denied.rollouts['shop/r'].problem, 'Service apps/k8s is in another namespace and no ReferenceGrant there allows HTTPRoutes or Rollouts from namespace shop');
    assert.deepEqual(denied.report.resources.find((r) => r.kind === 'Rollout')?.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`), [
      'Accepted=False/UnresolvedRefs',
      'ResolvedRefs=False/RefNotPermitted',
    ]);
    for (const from of ['{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}', '{group: ferry.dev, kind: Rollout, namespace: shop}']) {
      const grant = `---\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: apps}\nspec:\n  from: [${from}]\n  to: [{group: "", kind: Service}]\n`;
      assert.equal(run(grant + rollout('r', cross)).rollouts['shop/r'].targets?.candidateBackendId, 'Service/apps/k8s:80', from);
    }
  });

  it('requires stable to be one of the rule backendRefs; the candidate need not be', () => {
    const { rollouts, messages } = run(rollout('r', TO_API.replace('{name: vm, port: 80}', '{name: k8s, port: 80}').replace('candidate: {name: k8s, port: 80}', 'candidate: {name: vm, port: 80}')));
    assert.equal(rollouts['shop/r'].targets, null);
    assert.deepEqual(messages, ['r error spec.stable: stable backend Service/shop/k8s:80 is not a backendRef of HTTPRoute/shop/web/rule/1 (its backendRefs: Service/shop/vm:80)']);
  });

  it('lets the oldest usable Rollout drive a rule; a newer one is Conflicted, an unusable one claims nothing', () => {
    const newer = rollout('a-newer', TO_API, '2024-05-01T00:00:00Z');
    const older = rollout('z-older', TO_API, '2024-01-01T00:00:00Z');
    const broken = rollout('0-broken', TO_API.replace('candidate: {name: k8s, port: 80}', 'candidate: {name: nope, port: 80}'));
    const { rollouts, report, snapshot } = run(broken + newer + older, { 'shop/a-newer': weights(0, 100) });
    assert.equal(rollouts['shop/z-older'].targets?.ruleId, 'HTTPRoute/shop/web/rule/1');
    assert.equal(rollouts['shop/a-newer'].problem, 'Rollout shop/z-older (older) already drives HTTPRoute/shop/web/rule/1; only one Rollout may drive a rule');
    assert.equal(rollouts['shop/0-broken'].problem, 'Service shop/nope not found');
    const status = report.resources.find((r) => r.name === 'a-newer');
    assert.deepEqual([status?.accepted, status?.conditions[0].reason], [false, 'Conflicted']);
    // The conflicted Rollout's override is not applied: the rule keeps its declared weights.
    assert.deepEqual(snapshot.rules['HTTPRoute/shop/web/rule/1'].backends.map((b) => b.weight), [1, 0]);
  });

  it('warns when the route is not served by any listener', () => {
    assert.deepEqual(run(rollout('r', TO_API)).messages, []);
    const detached = run(rollout('r', TO_API).replace('name: web, rule: api', 'name: lonely, rule: 0') + `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: lonely, namespace: shop}
spec:
  parentRefs: [{name: missing-gateway}]
  rules: [{backendRefs: [{name: vm, port: 80}]}]
`);
    assert.notEqual(detached.rollouts['shop/r'].targets, null);
    assert.deepEqual(detached.messages, ['r warning spec.targetRef.name: HTTPRoute shop/lonely is not attached to any served listener: there is no traffic to move until it is']);
  });
});

describe('Rollout overrides', () => {
  const R = rollout('r', TO_API);
  const rule = (snap: ReturnType<typeof run>['snapshot'], id = 'HTTPRoute/shop/web/rule/1') => snap.rules[id];

  it('without an override keeps the declared weights and appends the candidate at weight 0', () => {
    const { snapshot } = run(R);
    assert.deepEqual(rule(snapshot).backends.map((b) => [b.backendId, b.weight]), [['Service/shop/vm:80', 1], ['Service/shop/k8s:80', 0]]);
    assert.equal(rule(snapshot).rollout, undefined);
    assert.ok(snapshot.backends['Service/shop/k8s:80']);
  });

  it('changes only the driven rule, and the snapshot hash with it', () => {
    const plain = run(R);
    const a = run(R, { 'shop/r': weights(100, 0) });
    const b = run(R, { 'shop/r': weights(80, 20) });
    assert.notEqual(a.snapshot.hash, plain.snapshot.hash);
    assert.notEqual(a.snapshot.hash, b.snapshot.hash);
    assert.deepEqual(rule(b.snapshot, 'HTTPRoute/shop/web/rule/0'), rule(plain.snapshot, 'HTTPRoute/shop/web/rule/0'));
    assert.deepEqual(rule(b.snapshot).rollout, { name: 'shop/r', declared: [1, 0], stableBackendId: 'Service/shop/vm:80', candidateBackendId: 'Service/shop/k8s:80' });
    assert.deepEqual(rule(b.snapshot).backends.map((b) => b.weight), [80, 20]);
  });

  it('applies to the rule compile resolves, whatever ruleId the controller last knew; unknown keys are ignored', () => {
    const stale = { ...weights(50, 50), ruleId: 'HTTPRoute/shop/web/rule/0' };
    const { snapshot } = run(R, { 'shop/r': stale, 'shop/other': weights(0, 100) });
    assert.deepEqual(rule(snapshot).backends.map((b) => b.weight), [50, 50]);
    assert.deepEqual(rule(snapshot, 'HTTPRoute/shop/web/rule/0').backends.map((b) => b.weight), [7, 2]);
  });

  it('gives a repeated stable backendRef its weight once', () => {
    const onPages = rollout('p', TO_API.replace('rule: api', 'rule: pages'));
    const { snapshot } = run(onPages, { 'shop/p': weights(90, 10) });
    const r = rule(snapshot, 'HTTPRoute/shop/web/rule/0');
    assert.deepEqual(r.backends.map((b) => [b.backendId, b.weight]), [['Service/shop/vm:80', 90], ['Service/shop/vm:80', 0], ['Service/shop/k8s:80', 10]]);
    assert.deepEqual(r.rollout?.declared, [7, 2, 0]);
  });

  it('maps sticky hashOn to the snapshot form', () => {
    const header = run(R, { 'shop/r': { ...weights(75, 25), sticky: { percent: 25, hashOn: { header: { name: 'X-User' } } } } });
    assert.deepEqual(rule(header.snapshot).sticky, { percent: 25, hashOn: { type: 'Header', name: 'x-user' }, stableBackendId: 'Service/shop/vm:80', candidateBackendId: 'Service/shop/k8s:80' });
    const cookie = run(R, { 'shop/r': { ...weights(75, 25), sticky: { percent: 25, hashOn: { cookie: { name: 'sid' } } } } });
    assert.deepEqual(rule(cookie.snapshot).sticky?.hashOn, { type: 'Cookie', name: 'sid', ttlSeconds: 0, path: '/' });
  });

  it('mirrors with the Rollout defaults when spec.mirror is absent', () => {
    const { snapshot } = run(R, { 'shop/r': { ...weights(100, 0), mirror: { percent: 10 } } });
    assert.deepEqual(rule(snapshot).filters, [{
      type: 'RequestMirror',
      backendId: 'Service/shop/k8s:80',
      numerator: 10,
      denominator: 100,
      maxBodyBytes: 65536,
      allowUnsafeMethods: false,
      host: null,
      compare: { key: 'shop/r', noise: true },
    }]);
  });

  it('adds header-gate entries before the originals, to a candidate-only rule', () => {
    const gate = { ...weights(100, 0), headerGate: { headers: [{ name: 'X-Canary', type: 'Exact' as const, value: 'yes' }] } };
    const { snapshot } = run(R, { 'shop/r': gate });
    const routes = snapshot.sockets[0].listeners[0].virtualHosts[0].routes;
    assert.deepEqual(routes.map((e) => `${e.ruleId} ${e.match.path?.value} ${e.match.headers.map((h) => h.name).join(',')}`), [
      'HTTPRoute/shop/web/rule/0 /pages ',
      'HTTPRoute/shop/web/rule/1/rollout-gate /api x-canary',
      'HTTPRoute/shop/web/rule/1 /api ',
    ]);
    const g = rule(snapshot, 'HTTPRoute/shop/web/rule/1/rollout-gate');
    assert.deepEqual(g.backends, [{ backendId: 'Service/shop/k8s:80', weight: 1, filters: [] }]);
    assert.deepEqual([g.routeId, g.ruleIndex, g.rollout?.name], ['HTTPRoute/shop/web', 1, 'shop/r']);
  });

  it("accepts the controller's own overrides for every kind of step", () => {
    const steps = `  analysis: {diff: {maxRate: 1}}
  steps:
  - {mirror: {percent: 20}}
  - {weight: 20}
  - {pause: {}}
  - {headerGate: {headers: [{name: X-Canary, value: "1"}]}}
  - {sticky: {percent: 10, hashOn: {header: {name: X-User}}}}
`;
    const text = rollout('r', TO_API).replace('  steps: [{weight: 100}]\n', steps);
    const parsed = parseYamlFiles([{ path: 'c.yaml', text: BASE + text }]);
    const spec = (parsed.resources.find((r) => r.kind === 'Rollout') as RolloutResource).spec;
    const traffic: TrafficOverride[] = [...resolveRollout(spec).steps.map((s) => s.traffic), CANDIDATE_ONLY];
    const hashes = traffic.map((t) => {
      const { snapshot } = compile({ resources: parsed.resources, overrides: new Map([['shop/r', t]]) });
      const driven = snapshot.rules['HTTPRoute/shop/web/rule/1'];
      assert.deepEqual(driven.backends.map((b) => b.weight), [t.weights.stable, t.weights.candidate]);
      return snapshot.hash;
    });
    // The pause keeps the weight step's traffic; every other step is a different snapshot.
    assert.equal(hashes[2], hashes[1]);
    assert.equal(new Set(hashes).size, hashes.length - 1);
  });
});
