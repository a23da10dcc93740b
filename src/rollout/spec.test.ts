import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rolloutSpec, type RolloutSpec } from '../resources/rollout.ts';
import { CANDIDATE_ONLY, resolveRollout, specHash, STABLE_ONLY } from './spec.ts';

function spec(raw: unknown): RolloutSpec {
  return rolloutSpec.parse(raw);
}

const base = {
  targetRef: { kind: 'HTTPRoute', name: 'productcatalog', rule: 0 },
  stable: { name: 'productcatalog-vm', port: 3550 },
  candidate: { name: 'productcatalog-k8s', port: 3550 },
  analysis: { diff: { maxRate: 1 } },
};

describe('resolveRollout', () => {
  it('fills analysis defaults', () => {
    const r = resolveRollout(spec({ ...base, analysis: undefined, steps: [{ weight: 100 }] }));
    assert.deepEqual(r.analysis, { intervalMs: 1_000, windowMs: 10_000, minSamples: 50, failureLimit: 0 });
    const r2 = resolveRollout(spec({ ...base, analysis: { interval: '500ms', window: '5s', minSamples: 20, latency: { maxRatio: 2 }, failureLimit: 2 }, steps: [{ weight: 100 }] }));
    assert.deepEqual(r2.analysis, { intervalMs: 500, windowMs: 5_000, minSamples: 20, latency: { maxRatio: 2, percentile: 99 }, failureLimit: 2 });
  });

  it('gives each step its traffic; a pause keeps the step before it', () => {
    const r = resolveRollout(spec({
      ...base,
      steps: [
        { pause: { duration: '5s' } },
        { mirror: { percent: 50, duration: '30s' } },
        { pause: {} },
        { weight: 20, duration: '1m' },
        { pause: { duration: '30s' } },
        { headerGate: { headers: [{ name: 'X-Canary', value: '1' }] } },
        { sticky: { percent: 10, hashOn: { header: { name: 'X-User-Id' } } } },
        { weight: 0 },
        { weight: 100 },
      ],
    }));
    const s = r.steps;
    assert.deepEqual(s.map((x) => [x.kind, x.mode, x.durationMs, x.label]), [
      ['pause', 'none', 5_000, 'pause 5s'],
      ['mirror', 'mirror', 30_000, 'mirror 50%'],
      ['pause', 'mirror', undefined, 'pause until promoted'],
      ['weight', 'traffic', 60_000, 'weight 20'],
      ['pause', 'traffic', 30_000, 'pause 30s'],
      ['headerGate', 'traffic', undefined, 'header gate x-canary'],
      ['sticky', 'traffic', undefined, 'sticky 10%'],
      ['weight', 'none', undefined, 'weight 0'],
      ['weight', 'traffic', undefined, 'weight 100'],
    ]);
    assert.deepEqual(s[0].traffic, STABLE_ONLY);
    assert.deepEqual(s[1].traffic, { ...STABLE_ONLY, mirror: { percent: 50 } });
    assert.deepEqual(s[2].traffic, s[1].traffic);
    assert.deepEqual(s[3].traffic, { ...STABLE_ONLY, weights: { stable: 80, candidate: 20 } });
    assert.deepEqual(s[4].traffic, s[3].traffic);
    assert.deepEqual(s[5].traffic, { ...STABLE_ONLY, headerGate: { headers: [{ name: 'x-canary', type: 'Exact', value: '1' }] } });
    assert.deepEqual(s[6].traffic, { weights: { stable: 90, candidate: 10 }, mirror: null, headerGate: null, sticky: { percent: 10, hashOn: { header: { name: 'x-user-id' } } } });
    assert.deepEqual(s[8].traffic, { ...CANDIDATE_ONLY });
  });
});

describe('specHash', () => {
  it('ignores key order and changes with any field', () => {
    const a = spec({ ...base, steps: [{ weight: 20 }, { weight: 100 }] });
    const reordered = spec({ steps: [{ weight: 20 }, { weight: 100 }], candidate: base.candidate, stable: base.stable, analysis: base.analysis, targetRef: base.targetRef });
    assert.equal(specHash(a), specHash(reordered));
    assert.match(specHash(a), /^[0-9a-f]{16}$/);
    assert.notEqual(specHash(a), specHash(spec({ ...base, steps: [{ weight: 30 }, { weight: 100 }] })));
    assert.notEqual(specHash(a), specHash(spec({ ...base, candidate: { name: 'productcatalog-k8s-v2', port: 3550 }, steps: [{ weight: 20 }, { weight: 100 }] })));
  });
});
