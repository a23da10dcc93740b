import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRolloutRuntime, type CompiledRollout } from './rollouts.ts';
import { rolloutSpec } from '../resources/rollout.ts';
import { mirrorChannel, type MirrorSample } from '../snapshot/index.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';

const raw = {
  targetRef: { kind: 'HTTPRoute', name: 'catalog', rule: 0 },
  stable: { name: 'vm', port: 80 },
  candidate: { name: 'k8s', port: 80 },
  analysis: { diff: { maxRate: 50 }, minSamples: 1000 },
  steps: [{ mirror: { percent: 100, duration: '1h' } }, { weight: 100 }],
};
const compiled = (spec: unknown): Record<string, CompiledRollout> => ({
  'default/catalog': {
    namespace: 'default', name: 'catalog', spec: rolloutSpec.parse(spec), problem: null,
    targets: { ruleId: 'HTTPRoute/default/catalog/rule/0', stableBackendId: 'Service/default/vm:80', candidateBackendId: 'Service/default/k8s:80' },
  },
});
const answer = (price: number) => ({ status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ price })), truncated: false, durationMs: 1 });
const sample = (price: number): MirrorSample => ({
  key: 'default/catalog', ruleId: 'HTTPRoute/default/catalog/rule/0', routeId: 'HTTPRoute/default/catalog', method: 'GET', path: '/p',
  backend: 'Service/default/k8s:80', primary: answer(1), candidate: answer(price),
});

test('response diffs survive a reload with the same spec and start over when the spec changes', (t) => {
  const rt = createRolloutRuntime({ clock: new ManualClock(), stateFile: null, onOverridesChanged: () => {}, onEvent: () => {}, onWarning: () => {} });
  t.after(() => rt.close());
  rt.sync(compiled(raw));
  mirrorChannel.publish(sample(1));
  mirrorChannel.publish(sample(2));
  const compared = () => (rt.admin.diffs('default/catalog') as { compared: number; differing: number });
  assert.deepEqual([compared().compared, compared().differing], [2, 1]);

  rt.sync(compiled(structuredClone(raw)));
  assert.equal(compared().compared, 2, 'a new but equal spec object keeps the comparisons');

  rt.sync(compiled({ ...raw, analysis: { ...raw.analysis, diff: { maxRate: 10 } } }));
  assert.equal(compared().compared, 0, 'a changed spec starts the comparisons over');
});
