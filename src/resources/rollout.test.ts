import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldPath, formatConfigError } from '../lib/index.ts';
import { parseYamlFiles } from './load.ts';
import { rolloutSpec } from './rollout.ts';
import type { RolloutResource } from './types.ts';
import { issueMessage } from './validate.ts';

const base = () => ({
  targetRef: { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'productcatalog', rule: 0 },
  stable: { name: 'productcatalog-vm', port: 3550 },
  candidate: { name: 'productcatalog-k8s', port: 3550 },
  analysis: {
    interval: '1s',
    window: '10s',
    minSamples: 50,
    successRate: { min: 99 },
    latency: { percentile: 99, maxRatio: 1.5, maxMs: 500 },
    diff: { maxRate: 1 },
    failureLimit: 0,
  },
  mirror: {
    maxBodyBytes: 65536,
    allowUnsafeMethods: false,
    host: null,
    ignore: { headers: ['date', 'x-request-id'], fields: ['$.meta.generatedAt', '$.items[*].id', '$["odd key"].*'] },
    noise: true,
  },
  steps: [
    { mirror: { percent: 100, duration: '30s' } },
    { weight: 20 },
    { pause: { duration: '30s' } },
    { weight: 50, duration: '30s' },
    { pause: {} },
    { headerGate: { headers: [{ name: 'x-canary', value: '1' }], duration: '1m' } },
    { sticky: { percent: 10, hashOn: { cookie: { name: 'session' } }, duration: '1m' } },
    { sticky: { percent: 10, hashOn: { header: { name: 'x-user-id' } } } },
    { weight: 100 },
  ] as unknown[],
});

/** Parses and returns `field: message` for every issue, as the loader would report them. */
function errorsOf(raw: unknown): string[] {
  const r = rolloutSpec.safeParse(raw);
  if (r.success) return [];
  return r.error.issues.map((i) => `${fieldPath(i.path as (string | number)[])}: ${issueMessage(i, raw)}`);
}

function withChange(change: (s: ReturnType<typeof base>) => void): ReturnType<typeof base> {
  const s = base();
  change(s);
  return s;
}

describe('Rollout spec', () => {
  it('accepts the full example', () => {
    assert.deepEqual(errorsOf(base()), []);
  });

  it('accepts a minimal spec: target, backends and one step', () => {
    const r = rolloutSpec.safeParse({
      targetRef: { kind: 'GRPCRoute', name: 'cart', rule: 'checkout' },
      stable: { kind: 'Backend', group: 'ferry.dev', name: 'cart-vm' },
      candidate: { name: 'cart', port: 7070 },
      steps: [{ weight: 100 }],
    });
    assert.equal(r.success, true);
  });

  it('rejects targets that are not routes and bad rule references', () => {
    assert.deepEqual(errorsOf(withChange((s) => { s.targetRef.kind = 'Service'; })), [
      'targetRef.kind: must be one of "HTTPRoute", "GRPCRoute" (got "Service")',
    ]);
    assert.match(errorsOf(withChange((s) => { s.targetRef.group = 'example.com'; }))[0], /^targetRef\.group: must be one of "gateway.networking.k8s.io"/);
    assert.match(errorsOf(withChange((s) => { (s.targetRef as { rule: unknown }).rule = 'Bad Name'; }))[0], /^targetRef\.rule: /);
    assert.match(errorsOf(withChange((s) => { s.targetRef.rule = 16; }))[0], /^targetRef\.rule: /);
  });

  it('checks backend references: Service needs a port; only Service or ferry.dev Backend', () => {
    assert.deepEqual(errorsOf(withChange((s) => { delete (s.stable as { port?: number }).port; })), [
      'stable.port: port is required when referring to a Service',
    ]);
    assert.deepEqual(errorsOf(withChange((s) => { Object.assign(s.candidate, { group: 'example.com', kind: 'Thing' }); })), [
      'candidate.kind: must be a Service or a ferry.dev Backend (got example.com/Thing)',
    ]);
    assert.deepEqual(errorsOf(withChange((s) => { s.candidate.name = s.stable.name; })), [
      'candidate: candidate must be a different backend from stable',
    ]);
  });

  it('validates analysis durations, bounds and combinations', () => {
    assert.match(errorsOf(withChange((s) => { s.analysis.interval = '1 second'; }))[0], /^analysis\.interval: invalid duration/);
    assert.deepEqual(errorsOf(withChange((s) => { s.analysis.interval = '0s'; })), ['analysis.interval: must be greater than zero']);
    assert.deepEqual(errorsOf(withChange((s) => { s.analysis.window = '10m'; })), ['analysis.window: must be at most 5m']);
    assert.deepEqual(errorsOf(withChange((s) => { s.analysis.window = '500ms'; })), [
      'analysis.window: window (500ms) must be at least the interval (1s)',
    ]);
    assert.deepEqual(errorsOf(withChange((s) => { s.analysis.minSamples = 0; })), ['analysis.minSamples: must be at least 1 (got 0)']);
    assert.deepEqual(errorsOf(withChange((s) => { s.analysis.successRate.min = 101; })), ['analysis.successRate.min: must be at most 100 (got 101)']);
    assert.match(errorsOf(withChange((s) => { s.analysis.latency.percentile = 75; }))[0], /^analysis\.latency\.percentile: /);
    assert.deepEqual(errorsOf(withChange((s) => { s.analysis.latency = { percentile: 99 } as typeof s.analysis.latency; })), [
      'analysis.latency: set maxRatio (against stable), maxMs, or both',
    ]);
    assert.deepEqual(errorsOf(withChange((s) => { s.analysis.latency.maxRatio = 0.5; })), ['analysis.latency.maxRatio: must be at least 1 (got 0.5)']);
    assert.deepEqual(errorsOf(withChange((s) => { s.analysis.failureLimit = -1; })), ['analysis.failureLimit: must be at least 0 (got -1)']);
    assert.deepEqual(errorsOf(withChange((s) => { s.analysis.diff.maxRate = -1; })), ['analysis.diff.maxRate: must be at least 0 (got -1)']);
  });

  it('validates mirror options and ignore rules', () => {
    assert.deepEqual(errorsOf(withChange((s) => { s.mirror.ignore.fields = ['meta.generatedAt']; })).length, 1);
    assert.match(errorsOf(withChange((s) => { s.mirror.ignore.fields = ['$.a..b']; }))[0], /^mirror\.ignore\.fields\[0\]: must be a JSON path/);
    assert.match(errorsOf(withChange((s) => { s.mirror.ignore.headers = ['bad header']; }))[0], /^mirror\.ignore\.headers\[0\]: /);
    assert.match(errorsOf(withChange((s) => { (s.mirror as { host: unknown }).host = '*.example.com'; }))[0], /^mirror\.host: /);
    assert.deepEqual(errorsOf(withChange((s) => { (s.mirror as { host: unknown }).host = 'shadow.example.com'; })), []);
    assert.match(errorsOf(withChange((s) => { s.mirror.maxBodyBytes = -5; }))[0], /^mirror\.maxBodyBytes: /);
  });

  it('requires exactly one kind per step, with positioned errors', () => {
    assert.deepEqual(errorsOf(withChange((s) => { s.steps[1] = {}; })), [
      'steps[1]: a step must be one of mirror, weight, pause, headerGate, sticky',
    ]);
    assert.deepEqual(errorsOf(withChange((s) => { s.steps[1] = { weight: 20, pause: {} }; })), [
      'steps[1]: a step must set exactly one of mirror, weight, pause, headerGate, sticky (has weight and pause)',
    ]);
    assert.match(errorsOf(withChange((s) => { s.steps[1] = { wieght: 20 }; })).join('\n'), /steps\[1\]: Unrecognized key: "wieght"/);
    assert.deepEqual(errorsOf(withChange((s) => { s.steps[2] = { pause: {}, duration: '10s' }; })), [
      'steps[2].duration: duration at step level only goes with weight; other steps take it inside their own mapping',
    ]);
    assert.deepEqual(errorsOf(withChange((s) => { s.steps = []; })), ['steps: must have at least 1 item']);
  });

  it('validates each step kind', () => {
    assert.deepEqual(errorsOf(withChange((s) => { s.steps[1] = { weight: 120 }; })), ['steps[1].weight: must be at most 100 (got 120)']);
    assert.deepEqual(errorsOf(withChange((s) => { s.steps[1] = { weight: 2.5 }; })), ['steps[1].weight: must be an integer (got 2.5)']);
    assert.deepEqual(errorsOf(withChange((s) => { s.steps[0] = { mirror: { percent: 0 } }; })), ['steps[0].mirror.percent: must be at least 1 (got 0)']);
    assert.deepEqual(errorsOf(withChange((s) => { s.steps[0] = { mirror: {} }; })), ['steps[0].mirror.percent: is required']);
    assert.deepEqual(errorsOf(withChange((s) => { s.steps[2] = { pause: { duration: '0s' } }; })), ['steps[2].pause.duration: must be greater than zero']);
    assert.deepEqual(errorsOf(withChange((s) => { s.steps[5] = { headerGate: { headers: [] } }; })), ['steps[5].headerGate.headers: must have at least 1 item']);
    assert.deepEqual(
      errorsOf(withChange((s) => { s.steps[5] = { headerGate: { headers: [{ name: 'x-a', value: '1' }, { name: 'X-A', value: '2' }] } }; })),
      ['steps[5].headerGate.headers[1].name: header "X-A" is matched twice'],
    );
    assert.equal(
      errorsOf(withChange((s) => { s.steps[5] = { headerGate: { headers: [{ name: 'x-a', type: 'RegularExpression', value: '(' }] } }; }))[0].startsWith('steps[5].headerGate.headers[0].value: '),
      true,
    );
    assert.deepEqual(errorsOf(withChange((s) => { s.steps[6] = { sticky: { percent: 10, hashOn: {} } }; })), [
      'steps[6].sticky.hashOn: set exactly one of cookie or header',
    ]);
    assert.deepEqual(
      errorsOf(withChange((s) => { s.steps[6] = { sticky: { percent: 10, hashOn: { cookie: { name: 'a' }, header: { name: 'b' } } } }; })),
      ['steps[6].sticky.hashOn: set exactly one of cookie or header'],
    );
    assert.match(errorsOf(withChange((s) => { s.steps[6] = { sticky: { percent: 10, hashOn: { cookie: { name: 'a b' } } } }; }))[0], /^steps\[6\]\.sticky\.hashOn\.cookie\.name: must be a valid cookie name/);
  });

  it('requires something to judge a mirror step by', () => {
    const s = base();
    delete (s.analysis as { diff?: unknown }).diff;
    delete (s.analysis as { successRate?: unknown }).successRate;
    assert.deepEqual(errorsOf(s), ['steps[0].mirror: a mirror step needs analysis.diff or analysis.successRate to judge the candidate by']);
  });
});

describe('Rollout as a resource', () => {
  const doc = (spec: string, apiVersion = 'ferry.dev/v1alpha1') => `apiVersion: ${apiVersion}
kind: Rollout
metadata: {name: catalog, namespace: shop}
spec:
${spec}`;
  const SPEC = `  targetRef: {kind: HTTPRoute, name: catalog, rule: 0}
  stable: {name: catalog-vm, port: 3550}
  candidate: {name: catalog-k8s, namespace: k8s, port: 3550}
  steps: [{weight: 20}, {weight: 100}]
`;
  const load = (text: string) => parseYamlFiles([{ path: 'r.yaml', text }]);

  it('loads as ferry.dev/v1alpha1, with the candidate namespace kept', () => {
    const { resources, errors } = load(doc(SPEC));
    assert.deepEqual(errors, []);
    assert.equal(resources[0].kind, 'Rollout');
    const r = resources[0] as RolloutResource;
    assert.equal(r.metadata.namespace, 'shop');
    assert.equal(r.spec.candidate.namespace, 'k8s');
  });

  it('is not served under another apiVersion', () => {
    assert.deepEqual(load(doc(SPEC, 'ferry.dev/v1')).errors.map(formatConfigError), [
      'r.yaml:1:1: Rollout shop/catalog apiVersion: Rollout is not served as ferry.dev/v1; use ferry.dev/v1alpha1',
    ]);
  });

  it('reports errors at their line and column, and unknown fields as warnings', () => {
    assert.deepEqual(load(doc(SPEC.replace('{weight: 20}', '{weight: 120}'))).errors.map(formatConfigError), [
      'r.yaml:8:12: Rollout shop/catalog spec.steps[0].weight: must be at most 100 (got 120)',
    ]);
    const bad = load(doc(`${SPEC}  analysis: {intervall: 1s}\n`));
    assert.equal(bad.resources.length, 1);
    assert.deepEqual(bad.errors.map(formatConfigError), [
      'r.yaml:9:14: Rollout shop/catalog warning: spec.analysis.intervall: unknown field "intervall" is ignored',
    ]);
  });

  it('tells stable and candidate apart by namespace too', () => {
    const same = SPEC.replace('{name: catalog-k8s, namespace: k8s, port: 3550}', '{name: catalog-vm, port: 3550}');
    assert.deepEqual(load(doc(same)).errors.map(formatConfigError), [
      'r.yaml:7:3: Rollout shop/catalog spec.candidate: candidate must be a different backend from stable',
    ]);
    assert.deepEqual(load(doc(SPEC.replace('catalog-k8s', 'catalog-vm'))).errors, []);
  });
});
