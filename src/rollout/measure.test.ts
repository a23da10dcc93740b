import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRequestWindows } from '../observe/window.ts';
import { diffSeries, mirrorSeries, recordDiffVerdict, recordMirrored, windowMeasure } from './measure.ts';
import type { RolloutTargets } from './types.ts';

const T: RolloutTargets = { ruleId: 'rule', stableBackendId: 'vm', candidateBackendId: 'k8s' };

describe('windowMeasure', () => {
  const windows = createRequestWindows({ bucketMs: 100, maxWindowMs: 10_000 });
  for (let i = 0; i < 10; i++) {
    windows.record('rule', 'vm', 1_000 + i, 10, false);
    windows.record('rule', 'k8s', 1_000 + i, 30, i < 2);
    recordMirrored(windows, 'rule', 'k8s', 1_000 + i, 12, i < 1);
    recordDiffVerdict(windows, 'rule', 'k8s', 1_000 + i, i < 3);
  }
  const measure = windowMeasure(windows);

  it('reads live traffic per backend', () => {
    const m = measure({ rollout: 'default/x', mode: 'traffic', targets: T }, 5_000, 1_050)!;
    assert.equal(m.mode, 'traffic');
    assert.equal(m.stable.count, 10);
    assert.equal(m.candidate.count, 10);
    assert.equal(m.candidate.errors, 2);
    assert.equal(m.diff, undefined);
  });

  it('reads mirrored answers and diff verdicts in mirror mode', () => {
    const m = measure({ rollout: 'default/x', mode: 'mirror', targets: T }, 5_000, 1_050)!;
    assert.equal(m.stable.count, 10);
    assert.equal(m.candidate.count, 10);
    assert.equal(m.candidate.errors, 1);
    assert.deepEqual(m.diff, { compared: 10, differing: 3 });
  });

  it('measures nothing before the targets are resolved', () => {
    assert.equal(measure({ rollout: 'default/x', mode: 'traffic' }, 5_000, 1_050), undefined);
  });

  it('keeps mirrored and diff series apart from live traffic', () => {
    assert.equal(mirrorSeries('k8s'), 'mirror:k8s');
    assert.equal(diffSeries('k8s'), 'diff:k8s');
  });
});
