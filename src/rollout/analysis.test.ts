import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WindowStats } from '../observe/window.ts';
import { analyze, type AnalysisSettings } from './analysis.ts';

function stats(count: number, errors = 0, p99 = 20, p50 = p99 / 2): WindowStats {
  return { count, errors, successRate: count === 0 ? 100 : ((count - errors) / count) * 100, p50, p90: p99 * 0.9, p95: p99 * 0.95, p99 };
}

const settings: AnalysisSettings = {
  minSamples: 50,
  successRate: { min: 99 },
  latency: { percentile: 99, maxRatio: 1.5, maxMs: 500 },
  diff: { maxRate: 1 },
};

const verdicts = (r: ReturnType<typeof analyze>): Record<string, string> => Object.fromEntries(r.checks.map((c) => [c.name, c.verdict]));

describe('analyze', () => {
  it('passes a healthy candidate', () => {
    const r = analyze(settings, { candidate: stats(100, 0, 22), stable: stats(400, 1, 20) });
    assert.equal(r.verdict, 'pass');
    assert.deepEqual(verdicts(r), { samples: 'pass', successRate: 'pass', latency: 'pass' });
    assert.match(r.message, /candidate success rate 100% meets 99%/);
  });

  it('fails on success rate below the minimum', () => {
    const r = analyze(settings, { candidate: stats(100, 5), stable: stats(400) });
    assert.equal(r.verdict, 'fail');
    const c = r.checks.find((x) => x.name === 'successRate')!;
    assert.equal(c.value, 95);
    assert.equal(c.threshold, 99);
    assert.equal(r.message, 'candidate success rate 95% is below 99% (5 errors in 100; stable 100%)');
  });

  it('fails on latency above stable × maxRatio, and above maxMs', () => {
    const slow = analyze(settings, { candidate: stats(100, 0, 40), stable: stats(400, 0, 20) });
    assert.equal(slow.verdict, 'fail');
    const c = slow.checks.find((x) => x.name === 'latency')!;
    assert.equal(c.value, 40);
    assert.equal(c.threshold, 30);
    assert.match(slow.message, /candidate p99 40 ms exceeds 1.5× stable p99 20 ms and 500 ms/);
    const capped = analyze(settings, { candidate: stats(100, 0, 600), stable: stats(400, 0, 1000) });
    assert.equal(capped.verdict, 'fail');
    assert.equal(capped.checks.find((x) => x.name === 'latency')!.threshold, 500);
    const onlyMs = analyze({ minSamples: 10, latency: { maxMs: 100 } }, { candidate: stats(20, 0, 50), stable: stats(0) });
    assert.equal(onlyMs.verdict, 'inconclusive'); // stable has no samples
  });

  it('uses the configured percentile', () => {
    const s: AnalysisSettings = { minSamples: 10, latency: { percentile: 50, maxRatio: 2 } };
    const r = analyze(s, { candidate: stats(20, 0, 1000, 30), stable: stats(20, 0, 20, 10) });
    assert.equal(r.verdict, 'fail');
    assert.equal(r.checks[1].value, 30);
    assert.equal(r.checks[1].threshold, 20);
  });

  it('is inconclusive, never pass nor fail, below minSamples on either side', () => {
    const fewCandidate = analyze(settings, { candidate: stats(12, 12), stable: stats(400) });
    assert.equal(fewCandidate.verdict, 'inconclusive');
    assert.equal(fewCandidate.message, 'waiting for traffic: 12/50 samples (candidate)');
    assert.deepEqual(verdicts(fewCandidate), { samples: 'inconclusive', successRate: 'inconclusive', latency: 'inconclusive' });
    // the measured value stays visible
    assert.equal(fewCandidate.checks[1].value, 0);
    assert.match(fewCandidate.checks[1].message, /^not judged yet \(too few samples\)/);
    const fewStable = analyze(settings, { candidate: stats(100), stable: stats(3) });
    assert.equal(fewStable.verdict, 'inconclusive');
    assert.equal(fewStable.message, 'waiting for traffic: 3/50 samples (stable)');
    const none = analyze(settings, { candidate: stats(0), stable: stats(0) });
    assert.equal(none.verdict, 'inconclusive');
  });

  it('defaults minSamples to 50', () => {
    assert.equal(analyze({}, { candidate: stats(49), stable: stats(49) }).verdict, 'inconclusive');
    const r = analyze({}, { candidate: stats(50), stable: stats(50) });
    assert.equal(r.verdict, 'pass');
    assert.match(r.message, /no checks configured/);
    assert.equal(analyze(undefined, { candidate: stats(50), stable: stats(50) }).verdict, 'pass');
  });

  it('judges the candidate alone when stable gets no traffic (weight 100)', () => {
    const onlyRatio: AnalysisSettings = { minSamples: 50, successRate: { min: 99 }, latency: { maxRatio: 1.5 } };
    const r = analyze(onlyRatio, { stableIdle: true, candidate: stats(100, 0, 80), stable: stats(0) });
    assert.equal(r.verdict, 'pass');
    assert.deepEqual(verdicts(r), { samples: 'pass', successRate: 'pass' });
    assert.equal(analyze(onlyRatio, { stableIdle: true, candidate: stats(100, 5), stable: stats(0) }).verdict, 'fail');
    assert.equal(analyze(onlyRatio, { stableIdle: true, candidate: stats(10), stable: stats(0) }).verdict, 'inconclusive');
    const withMax = analyze(settings, { stableIdle: true, candidate: stats(100, 0, 600), stable: stats(0) });
    assert.equal(withMax.verdict, 'fail');
    assert.equal(withMax.message, 'candidate p99 600 ms exceeds 500 ms');
  });

  describe('mirror mode', () => {
    it('judges the diff rate over compared responses', () => {
      const pass = analyze(settings, { mode: 'mirror', candidate: stats(0), stable: stats(500), diff: { compared: 200, differing: 1 } });
      assert.equal(pass.verdict, 'pass');
      assert.deepEqual(verdicts(pass), { samples: 'pass', diff: 'pass' });
      const fail = analyze(settings, { mode: 'mirror', candidate: stats(0), stable: stats(500), diff: { compared: 200, differing: 10 } });
      assert.equal(fail.verdict, 'fail');
      assert.equal(fail.message, '5% of compared responses differ (10 of 200; at most 1%)');
      const few = analyze(settings, { mode: 'mirror', candidate: stats(0), stable: stats(500), diff: { compared: 20, differing: 20 } });
      assert.equal(few.verdict, 'inconclusive');
      assert.equal(few.message, 'waiting for traffic: 20/50 samples (compared responses)');
      const nothing = analyze(settings, { mode: 'mirror', candidate: stats(0), stable: stats(500) });
      assert.equal(nothing.verdict, 'inconclusive');
    });

    it('judges the success rate of mirrored answers when they are measured', () => {
      const r = analyze(settings, { mode: 'mirror', candidate: stats(100, 10), stable: stats(500), diff: { compared: 100, differing: 0 } });
      assert.equal(r.verdict, 'fail');
      assert.match(r.message, /^mirrored candidate success rate 90% is below 99%/);
      // no latency check on mirrored traffic
      assert.equal(r.checks.some((c) => c.name === 'latency'), false);
    });

    it('relies on the success rate alone when no diff is configured', () => {
      const s: AnalysisSettings = { minSamples: 10, successRate: { min: 99 } };
      assert.equal(analyze(s, { mode: 'mirror', candidate: stats(5), stable: stats(100) }).verdict, 'inconclusive');
      assert.equal(analyze(s, { mode: 'mirror', candidate: stats(50), stable: stats(100) }).verdict, 'pass');
      assert.equal(analyze(s, { mode: 'mirror', candidate: stats(50, 5), stable: stats(100) }).verdict, 'fail');
    });

    it('does not apply the diff check to live traffic', () => {
      const r = analyze(settings, { candidate: stats(100), stable: stats(100), diff: { compared: 100, differing: 100 } });
      assert.equal(r.verdict, 'pass');
    });
  });
});
