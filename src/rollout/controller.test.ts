import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WindowStats } from '../observe/window.ts';
import { rolloutSpec } from '../resources/rollout.ts';
import type { AnalysisInput } from './analysis.ts';
import { createRolloutController } from './controller.ts';
import { CANDIDATE_ONLY, STABLE_ONLY } from './spec.ts';
import type { RolloutEvent } from './state-store.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';
import type { MeasureRequest, RolloutTargets } from './types.ts';

const KEY = 'default/productcatalog';
const TARGETS: RolloutTargets = { ruleId: 'HTTPRoute/default/productcatalog/rule/0', stableBackendId: 'vm', candidateBackendId: 'k8s' };

function stats(count: number, errors = 0, p99 = 20): WindowStats {
  return { count, errors, successRate: count === 0 ? 100 : ((count - errors) / count) * 100, p50: p99 / 2, p90: p99, p95: p99, p99 };
}

const HEALTHY: AnalysisInput = { candidate: stats(100), stable: stats(400), diff: { compared: 100, differing: 0 } };
const FAILING: AnalysisInput = { candidate: stats(100, 10), stable: stats(400), diff: { compared: 100, differing: 50 } };
const QUIET: AnalysisInput = { candidate: stats(12), stable: stats(400), diff: { compared: 12, differing: 0 } };

function rawSpec(steps: unknown[], analysis: Record<string, unknown> = {}) {
  return rolloutSpec.parse({
    targetRef: { kind: 'HTTPRoute', name: 'productcatalog', rule: 0 },
    stable: { name: 'productcatalog-vm', port: 3550 },
    candidate: { name: 'productcatalog-k8s', port: 3550 },
    analysis: { interval: '1s', window: '5s', minSamples: 50, successRate: { min: 99 }, diff: { maxRate: 1 }, ...analysis },
    steps,
  });
}

function setup(steps: unknown[], analysis: Record<string, unknown> = {}, opts: { targets?: RolloutTargets | null; historyLimit?: number } = {}) {
  const clock = new ManualClock();
  const events: RolloutEvent[] = [];
  const calls: { req: MeasureRequest; windowMs: number }[] = [];
  let input: AnalysisInput | undefined = HEALTHY;
  const c = createRolloutController({
    clock,
    measure: (req, windowMs) => {
      calls.push({ req, windowMs });
      return req.targets ? input : undefined; // as windowMeasure does

    },
    onEvent: (e) => events.push(e),
    ...(opts.historyLimit !== undefined ? { historyLimit: opts.historyLimit } : {}),
  });
  const targets = opts.targets === null ? undefined : (opts.targets ?? TARGETS);
  c.upsert({ namespace: 'default', name: 'productcatalog', spec: rawSpec(steps, analysis), ...(targets ? { targets } : {}) });
  /** Advances time in 100 ms ticks. */
  const run = (ms: number): void => {
    for (let t = 0; t < ms; t += 100) {
      clock.advance(100);
      c.tick();
    }
  };
  return { c, clock, events, calls, run, feed: (i: AnalysisInput | undefined) => { input = i; } };
}

const phase = (c: ReturnType<typeof setup>['c']) => {
  const s = c.status(KEY)!;
  return `${s.phase}@${s.step}`;
};

describe('rollout controller', () => {
  it('starts Pending with all traffic on stable, then progresses on the first tick', () => {
    const { c, events } = setup([{ weight: 20 }, { weight: 100 }]);
    assert.equal(phase(c), 'Pending@0');
    assert.deepEqual(c.override(KEY), { ...STABLE_ONLY, ruleId: TARGETS.ruleId });
    assert.equal(c.status(KEY)!.message, 'waiting to start');
    c.tick();
    assert.equal(phase(c), 'Progressing@0');
    assert.deepEqual(c.override(KEY)!.weights, { stable: 80, candidate: 20 });
    assert.equal(events.length, 1);
    assert.deepEqual({ ...events[0], at: 0 }, { at: 0, rollout: KEY, from: 'Pending', to: 'Progressing', step: 0, reason: 'step 1/2 (weight 20): started' });
  });

  it('holds a weight step until analysis passed over a full window, then completes with the candidate at 100%', () => {
    const { c, run, events } = setup([{ weight: 20 }, { weight: 100 }]);
    c.tick();
    run(4_900);
    assert.equal(phase(c), 'Progressing@0');
    assert.match(c.status(KEY)!.message, /analysis passing; needs a full window \(4s of 5s\)/);
    run(100);
    assert.equal(phase(c), 'Progressing@1');
    run(5_000);
    assert.equal(phase(c), 'Completed@1');
    assert.deepEqual(c.override(KEY), { ...CANDIDATE_ONLY, ruleId: TARGETS.ruleId });
    assert.equal(c.status(KEY)!.message, 'completed: the candidate serves all traffic');
    assert.deepEqual(events.map((e) => `${e.from}>${e.to}@${e.step}`), ['Pending>Progressing@0', 'Progressing>Progressing@1', 'Progressing>Completed@1']);
    assert.match(events[1].reason, /^step 2\/2 \(weight 100\): previous step passed: /);
  });

  it('looks only at measurements since the step started, up to the window', () => {
    const { c, run, calls } = setup([{ weight: 20 }, { weight: 100 }]);
    c.tick();
    run(7_000);
    assert.deepEqual(calls.map((x) => x.windowMs), [1_000, 2_000, 3_000, 4_000, 5_000, 1_000, 2_000]);
    assert.deepEqual(calls[0].req, { rollout: KEY, mode: 'traffic', targets: TARGETS });
  });

  it('also holds for the step duration', () => {
    const { c, run } = setup([{ weight: 20, duration: '8s' }, { weight: 100 }]);
    c.tick();
    run(7_900);
    assert.equal(phase(c), 'Progressing@0');
    assert.match(c.status(KEY)!.message, /0\.1s of 8s left/);
    run(200);
    assert.equal(phase(c), 'Progressing@1');
  });

  it('holds while inconclusive and says it is waiting for traffic', () => {
    const { c, run, feed } = setup([{ weight: 20 }, { weight: 100 }]);
    feed(QUIET);
    c.tick();
    run(60_000);
    assert.equal(phase(c), 'Progressing@0');
    const s = c.status(KEY)!;
    assert.equal(s.lastAnalysis!.verdict, 'inconclusive');
    assert.equal(s.message, 'step 1/2 (weight 20): waiting for traffic: 12/50 samples (candidate)');
    assert.equal(s.failures, 0);
    feed(HEALTHY);
    run(5_000);
    assert.equal(phase(c), 'Progressing@1');
  });

  it('is inconclusive while the target is not resolved', () => {
    const { c, run, calls } = setup([{ weight: 20 }, { weight: 100 }], {}, { targets: null });
    c.tick();
    run(10_000);
    assert.equal(phase(c), 'Progressing@0');
    assert.equal(calls[0].req.targets, undefined);
    assert.equal(c.status(KEY)!.message, 'step 1/2 (weight 20): target not resolved yet: nothing to measure');
    assert.equal(c.override(KEY)!.ruleId, undefined);
    c.setTargets(KEY, TARGETS);
    assert.equal(c.override(KEY)!.ruleId, TARGETS.ruleId);
    run(5_000);
    assert.equal(phase(c), 'Progressing@1');
  });

  it('rolls back on the first failed check by default, sending all traffic to stable at once', () => {
    const { c, run, feed, events } = setup([{ weight: 20 }, { weight: 50 }, { weight: 100 }]);
    c.tick();
    run(6_000);
    assert.equal(phase(c), 'Progressing@1');
    feed(FAILING);
    run(1_000);
    assert.equal(phase(c), 'RolledBack@1');
    assert.deepEqual(c.override(KEY), { ...STABLE_ONLY, ruleId: TARGETS.ruleId });
    const last = events.at(-1)!;
    assert.equal(last.to, 'RolledBack');
    assert.match(last.reason, /^analysis failed \(1 failed check, limit 0\): candidate success rate 90% is below 99%/);
    assert.match(c.status(KEY)!.message, /^rolled back at step 2\/3: analysis failed/);
    // nothing moves afterwards
    feed(HEALTHY);
    run(30_000);
    assert.equal(phase(c), 'RolledBack@1');
  });

  it('tolerates failureLimit failed checks', () => {
    const { c, run, feed } = setup([{ weight: 20 }, { weight: 100 }], { failureLimit: 2 });
    c.tick();
    feed(FAILING);
    run(2_000);
    assert.equal(phase(c), 'Progressing@0');
    assert.equal(c.status(KEY)!.failures, 2);
    run(1_000);
    assert.equal(phase(c), 'RolledBack@0');
    assert.equal(c.status(KEY)!.failures, 3);
  });

  it('judges mirror steps on mirrored responses and diffs', () => {
    const { c, run, feed, calls } = setup([{ mirror: { percent: 100 } }, { weight: 100 }]);
    c.tick();
    assert.deepEqual(c.override(KEY)!.mirror, { percent: 100 });
    assert.deepEqual(c.override(KEY)!.weights, { stable: 100, candidate: 0 });
    run(1_000);
    assert.equal(calls[0].req.mode, 'mirror');
    feed({ candidate: stats(0), stable: stats(400), diff: { compared: 100, differing: 20 } });
    run(1_000);
    assert.equal(phase(c), 'RolledBack@0');
    assert.match(c.status(KEY)!.history.at(-1)!.reason, /20% of compared responses differ/);
  });

  it('waits at pause: {} until promoted; resume is refused there', () => {
    const { c, run } = setup([{ weight: 20 }, { pause: {} }, { weight: 100 }]);
    c.tick();
    run(5_000);
    assert.equal(phase(c), 'Paused@1');
    assert.deepEqual(c.override(KEY)!.weights, { stable: 80, candidate: 20 });
    assert.match(c.status(KEY)!.message, /^step 2\/3 \(pause until promoted\) paused: promote to continue/);
    run(60_000);
    assert.equal(phase(c), 'Paused@1');
    assert.deepEqual(c.resume(KEY), { ok: false, error: `rollout ${KEY} waits at a pause step: promote it to continue` });
    assert.deepEqual(c.promote(KEY), { ok: true, phase: 'Progressing', step: 2 });
  });

  it('keeps analysing while paused, and rolls back from a pause', () => {
    const { c, run, feed } = setup([{ weight: 20 }, { pause: {} }, { weight: 100 }]);
    c.tick();
    run(5_000);
    assert.equal(phase(c), 'Paused@1');
    feed(FAILING);
    run(1_000);
    assert.equal(phase(c), 'RolledBack@1');
  });

  it('advances a timed pause on time alone', () => {
    const { c, run, feed } = setup([{ pause: { duration: '3s' } }, { weight: 100 }]);
    feed(undefined); // nothing to measure: the pause gives the candidate no traffic
    c.tick();
    run(2_900);
    assert.equal(phase(c), 'Progressing@0');
    assert.match(c.status(KEY)!.message, /left/);
    run(100);
    assert.equal(phase(c), 'Progressing@1');
  });

  it('advances a step without candidate traffic on its duration, without analysis', () => {
    const { c, run, calls } = setup([{ weight: 0, duration: '2s' }, { weight: 0 }, { weight: 100 }]);
    c.tick();
    run(2_000);
    assert.equal(phase(c), 'Progressing@1');
    run(100);
    assert.equal(phase(c), 'Progressing@2');
    assert.equal(calls.filter((x) => x.windowMs > 0 && x.req.mode === 'traffic').length, 0);
  });

  it('promote skips to the next step, and starts a pending rollout', () => {
    const { c, run } = setup([{ weight: 20 }, { weight: 50 }, { weight: 100 }]);
    assert.deepEqual(c.promote(KEY), { ok: true, phase: 'Progressing', step: 0 });
    assert.deepEqual(c.promote(KEY), { ok: true, phase: 'Progressing', step: 1 });
    assert.match(c.status(KEY)!.history.at(-1)!.reason, /promoted by an operator/);
    c.promote(KEY);
    assert.deepEqual(c.promote(KEY), { ok: true, phase: 'Completed', step: 2 });
    assert.deepEqual(c.promote(KEY), { ok: false, error: `rollout ${KEY} is Completed; nothing to promote` });
    run(1_000);
    assert.equal(phase(c), 'Completed@2');
  });

  it('operator pause holds the step, and paused time does not count towards its duration', () => {
    const { c, run } = setup([{ weight: 20, duration: '10s' }, { weight: 100 }]);
    c.tick();
    run(4_000);
    assert.deepEqual(c.pause(KEY), { ok: true, phase: 'Paused', step: 0 });
    assert.deepEqual(c.pause(KEY), { ok: false, error: `rollout ${KEY} is already paused` });
    assert.match(c.status(KEY)!.message, /paused by an operator: resume to continue/);
    run(20_000);
    assert.equal(phase(c), 'Paused@0');
    assert.deepEqual(c.override(KEY)!.weights, { stable: 80, candidate: 20 });
    assert.deepEqual(c.resume(KEY), { ok: true, phase: 'Progressing', step: 0 });
    run(5_900);
    assert.equal(phase(c), 'Progressing@0');
    run(200);
    assert.equal(phase(c), 'Progressing@1');
  });

  it('abort sends traffic to stable; retry starts again from step 0', () => {
    const { c, run, feed } = setup([{ weight: 20 }, { weight: 50 }, { weight: 100 }], { failureLimit: 1 });
    c.tick();
    feed(FAILING);
    run(1_000);
    assert.equal(c.status(KEY)!.failures, 1);
    feed(HEALTHY);
    run(5_000);
    assert.equal(phase(c), 'Progressing@1');
    assert.deepEqual(c.abort(KEY, 'error budget spent elsewhere'), { ok: true, phase: 'Aborted', step: 1 });
    assert.deepEqual(c.override(KEY), { ...STABLE_ONLY, ruleId: TARGETS.ruleId });
    assert.equal(c.status(KEY)!.message, 'aborted at step 2/3: aborted by an operator: error budget spent elsewhere');
    assert.deepEqual(c.abort(KEY), { ok: false, error: `rollout ${KEY} is Aborted; nothing to abort` });
    assert.equal(c.pause(KEY).ok, false);
    assert.equal(c.resume(KEY).ok, false);
    assert.equal(c.promote(KEY).ok, false);
    assert.deepEqual(c.retry(KEY), { ok: true, phase: 'Progressing', step: 0 });
    assert.equal(c.status(KEY)!.failures, 0);
    assert.deepEqual(c.retry(KEY), { ok: false, error: `rollout ${KEY} is Progressing; only a rolled back or aborted rollout can be retried` });
    feed(FAILING);
    run(1_000);
    run(1_000);
    assert.equal(phase(c), 'RolledBack@0');
    assert.deepEqual(c.retry(KEY), { ok: true, phase: 'Progressing', step: 0 });
  });

  it('can abort a pending rollout, and reports unknown rollouts', () => {
    const { c } = setup([{ weight: 100 }]);
    assert.equal(c.abort(KEY).ok, true);
    assert.equal(phase(c), 'Aborted@0');
    assert.deepEqual(c.promote('default/nope'), { ok: false, error: 'no rollout default/nope' });
    assert.equal(c.status('default/nope'), undefined);
    assert.equal(c.override('default/nope'), undefined);
  });

  it('restarts from step 0 when the spec changes, and not when only targets change', () => {
    const { c, run, events } = setup([{ weight: 20 }, { weight: 50 }, { weight: 100 }]);
    c.tick();
    run(5_000);
    assert.equal(phase(c), 'Progressing@1');
    c.upsert({ namespace: 'default', name: 'productcatalog', spec: rawSpec([{ weight: 20 }, { weight: 50 }, { weight: 100 }]), targets: { ...TARGETS, candidateBackendId: 'k8s-2' } });
    assert.equal(phase(c), 'Progressing@1');
    c.upsert({ namespace: 'default', name: 'productcatalog', spec: rawSpec([{ weight: 10 }, { weight: 100 }]) });
    assert.equal(phase(c), 'Pending@0');
    assert.deepEqual(c.override(KEY)!.weights, STABLE_ONLY.weights);
    assert.equal(events.at(-1)!.reason, 'spec changed: starting again from step 1');
    assert.equal(events.at(-1)!.from, 'Progressing');
    c.tick();
    assert.deepEqual(c.override(KEY)!.weights, { stable: 90, candidate: 10 });
    assert.equal(c.status(KEY)!.history.length, 4);
  });

  it('keeps a bounded history and survives a throwing observer', () => {
    const clock = new ManualClock();
    const c = createRolloutController({ clock, measure: () => HEALTHY, historyLimit: 3, onEvent: () => { throw new Error('observer broke'); } });
    c.upsert({ namespace: 'default', name: 'productcatalog', spec: rawSpec([{ weight: 10 }, { weight: 20 }, { weight: 30 }, { weight: 40 }, { weight: 100 }]) });
    for (let i = 0; i < 6; i++) c.promote(KEY);
    const h = c.status(KEY)!.history;
    assert.equal(h.length, 3);
    assert.equal(h.at(-1)!.to, 'Completed');
    assert.equal(c.list().length, 1);
    c.remove(KEY);
    assert.equal(c.list().length, 0);
  });

  it('ticks on its own with start(), on the injected clock', () => {
    const clock = new ManualClock();
    const c = createRolloutController({ clock, measure: () => HEALTHY });
    c.upsert({ namespace: 'default', name: 'productcatalog', spec: rawSpec([{ weight: 20 }, { weight: 100 }]) });
    const stop = c.start(100);
    clock.advance(50);
    assert.equal(phase(c), 'Pending@0');
    clock.advance(100);
    assert.equal(phase(c), 'Progressing@0');
    clock.advance(10_000);
    assert.equal(phase(c), 'Completed@1');
    stop();
    assert.equal(clock.pendingTimers(), 0);
  });
});
