/**
 * The progressive delivery controller: one deterministic state machine per Rollout, driven by
 * `tick(now)`. Phases: Pending → Progressing (step i) ⇄ Paused → Completed, or RolledBack (analysis
 * failed more than failureLimit times: all traffic back to stable at once) or Aborted (by hand).
 *
 * Each step is analysed every `interval` over the measurements since the step started (at most
 * `window` of them). A step advances once its duration, if any, has elapsed and the last analysis
 * passed over a full window; an inconclusive analysis (too little traffic) holds the step. A step
 * that gives the candidate no traffic (weight 0, or a pause right after one) advances on its
 * duration alone; a step that gives stable no traffic (weight 100) judges the candidate alone.
 * Analysis keeps running while paused, so a bad candidate is still rolled back.
 * Failed checks count over the whole run (reset by retry or a new spec).
 *
 * Progress is saved through a state store on every change and restored on `upsert` when the spec
 * hash matches: the rollout resumes its step (its elapsed time counted from the saved start, the
 * analysis window fresh). A changed spec starts again from step 0.
 */
import type { Clock } from '../lib/index.ts';
import { analyze } from './analysis.ts';
import { resolveRollout, specHash, type TrafficOverride } from './spec.ts';
import type { Phase, PersistedRollout, RolloutEvent, RolloutStateStore } from './state-store.ts';
import { overrideOf, statusOf } from './status.ts';
import type { ControlResult, Measure, RolloutInput, RolloutState, RolloutStatus, RolloutTargets } from './types.ts';

export interface RolloutControllerOptions {
  readonly clock: Clock;
  readonly measure: Measure;
  /** Called on every transition (after it is recorded). Exceptions thrown here are ignored. */
  readonly onEvent?: (event: RolloutEvent) => void;
  readonly store?: RolloutStateStore;
  /** Called when the state cannot be saved. */
  readonly onWarning?: (message: string) => void;
  /** Transitions kept per rollout. Default 50. */
  readonly historyLimit?: number;
}

export interface RolloutController {
  /** Adds a rollout or updates it; a changed spec restarts it from step 0. */
  upsert(input: RolloutInput): void;
  /** Forgets a rollout (and its saved state). */
  remove(key: string): void;
  /** Sets or clears the resolved rule and backend ids. */
  setTargets(key: string, targets: RolloutTargets | undefined): void;
  /** Advances every rollout to `now` (default: the clock's time). */
  tick(now?: number): void;
  /** Finishes a pause, or skips to the next step (from Pending: starts). */
  promote(key: string): ControlResult;
  pause(key: string): ControlResult;
  resume(key: string): ControlResult;
  abort(key: string, reason?: string): ControlResult;
  /** Starts again from step 0 after RolledBack or Aborted. */
  retry(key: string): ControlResult;
  override(key: string): TrafficOverride | undefined;
  status(key: string): RolloutStatus | undefined;
  list(): RolloutStatus[];
  /** Ticks every `periodMs` on the clock's timers until the returned function is called. */
  start(periodMs?: number): () => void;
}

const ACTIVE: ReadonlySet<Phase> = new Set(['Progressing', 'Paused']);

export function createRolloutController(opts: RolloutControllerOptions): RolloutController {
  const { clock, measure } = opts;
  const historyLimit = opts.historyLimit ?? 50;
  const states = new Map<string, RolloutState>();
  /** Saved rollouts not (yet) upserted: kept in the file until removed. */
  const saved = opts.store?.load() ?? new Map<string, PersistedRollout>();
  let dirty = false;

  function record(s: RolloutState, from: Phase, reason: string, now: number): void {
    const event: RolloutEvent = { at: now, rollout: s.key, from, to: s.phase, step: s.step, reason };
    s.history.push(event);
    if (s.history.length > historyLimit) s.history.splice(0, s.history.length - historyLimit);
    s.reason = reason;
    dirty = true;
    try {
      opts.onEvent?.(event);
    } catch {
      // An observer's failure must not stop traffic decisions.
    }
  }

  function transition(s: RolloutState, to: Phase, step: number, reason: string, now: number): void {
    const from = s.phase;
    s.phase = to;
    s.step = step;
    record(s, from, reason, now);
  }

  function enterStep(s: RolloutState, index: number, now: number, why: string): void {
    const steps = s.plan.steps;
    s.last = null;
    s.pausedAt = null;
    s.pauseReason = null;
    s.stepStartedAt = now;
    s.analysisStartedAt = now;
    s.nextAnalysisAt = now + s.plan.analysis.intervalMs;
    if (index >= steps.length) {
      transition(s, 'Completed', steps.length - 1, `${why}; the candidate serves all traffic`, now);
      return;
    }
    const step = steps[index];
    const reason = `step ${index + 1}/${steps.length} (${step.label}): ${why}`;
    if (step.kind === 'pause' && step.durationMs === undefined) {
      s.pausedAt = now;
      s.pauseReason = 'step';
      transition(s, 'Paused', index, reason, now);
    } else transition(s, 'Progressing', index, reason, now);
  }

  function analyseStep(s: RolloutState, now: number): void {
    const step = s.plan.steps[s.step];
    if (step.mode === 'none') return;
    const windowMs = Math.min(s.plan.analysis.windowMs, now - s.analysisStartedAt);
    if (windowMs <= 0) return;
    const input = measure({ rollout: s.key, mode: step.mode, ...(s.targets ? { targets: s.targets } : {}) }, windowMs, now);
    const result = input
      ? analyze(s.plan.analysis, { ...input, mode: step.mode, stableIdle: step.traffic.weights.stable === 0 && !step.traffic.headerGate })
      : { verdict: 'inconclusive' as const, checks: [], message: 'target not resolved yet: nothing to measure' };
    s.last = { ...result, at: now, windowMs };
    if (result.verdict !== 'fail') return;
    s.failures++;
    dirty = true;
    if (s.failures > s.plan.analysis.failureLimit) {
      s.pausedAt = null;
      s.pauseReason = null;
      transition(s, 'RolledBack', s.step, `analysis failed (${s.failures} failed check${s.failures === 1 ? '' : 's'}, limit ${s.plan.analysis.failureLimit}): ${result.message}`, now);
    }
  }

  function maybeAdvance(s: RolloutState, now: number): void {
    const step = s.plan.steps[s.step];
    const elapsed = now - (s.stepStartedAt ?? now);
    const durationDone = step.durationMs === undefined || elapsed >= step.durationMs;
    if (!durationDone) return;
    if (step.kind === 'pause') enterStep(s, s.step + 1, now, 'pause elapsed');
    else if (step.mode === 'none') enterStep(s, s.step + 1, now, 'no candidate traffic to analyse; step time elapsed');
    else if (s.last?.verdict === 'pass' && s.last.windowMs >= s.plan.analysis.windowMs) {
      enterStep(s, s.step + 1, now, `previous step passed: ${s.last.message}`);
    }
  }

  function persist(): void {
    if (!dirty || !opts.store) return;
    dirty = false;
    const out = new Map<string, PersistedRollout>(saved);
    for (const s of states.values()) {
      out.set(s.key, {
        specHash: s.hash,
        phase: s.phase,
        step: s.step,
        stepStartedAt: s.stepStartedAt,
        pausedAt: s.pausedAt,
        pauseReason: s.pauseReason,
        failures: s.failures,
        history: s.history,
      });
    }
    try {
      opts.store.save(out);
    } catch (err) {
      dirty = true; // try again on the next change or tick
      opts.onWarning?.(`rollout state could not be saved: ${(err as Error).message}`);
    }
  }

  function fresh(key: string, input: RolloutInput, hash: string, now: number): RolloutState {
    const plan = resolveRollout(input.spec);
    return {
      key, spec: input.spec, plan, hash, ...(input.targets ? { targets: input.targets } : {}),
      phase: 'Pending', step: 0, stepStartedAt: null, analysisStartedAt: now, nextAnalysisAt: now,
      pausedAt: null, pauseReason: null, failures: 0, last: null, history: [], reason: '',
    };
  }

  function restore(s: RolloutState, p: PersistedRollout, now: number): void {
    s.phase = p.phase;
    s.step = p.step;
    s.stepStartedAt = p.stepStartedAt;
    s.pausedAt = p.pausedAt;
    s.pauseReason = p.pauseReason;
    s.failures = p.failures;
    s.history = [...p.history];
    s.analysisStartedAt = now;
    s.nextAnalysisAt = now + s.plan.analysis.intervalMs;
    if (ACTIVE.has(s.phase)) record(s, s.phase, `resumed at step ${s.step + 1}/${s.plan.steps.length} after a restart; analysis window starts fresh`, now);
  }

  function upsert(input: RolloutInput): void {
    const key = `${input.namespace}/${input.name}`;
    const now = clock.now();
    const hash = specHash(input.spec);
    const existing = states.get(key);
    if (existing) {
      if (input.targets) existing.targets = input.targets;
      if (existing.hash === hash) return;
      const next = fresh(key, input, hash, now);
      next.targets = input.targets ?? existing.targets;
      next.history = existing.history;
      next.phase = existing.phase;
      next.step = Math.min(existing.step, next.plan.steps.length - 1);
      states.set(key, next);
      transition(next, 'Pending', 0, 'spec changed: starting again from step 1', now);
      persist();
      return;
    }
    const s = fresh(key, input, hash, now);
    states.set(key, s);
    const p = saved.get(key);
    saved.delete(key);
    if (!p) return;
    if (p.specHash === hash && p.step < s.plan.steps.length) restore(s, p, now);
    else {
      s.history = [...p.history];
      s.phase = p.phase;
      s.step = Math.min(p.step, s.plan.steps.length - 1);
      transition(s, 'Pending', 0, 'spec changed since the saved state: starting again from step 1', now);
    }
    persist();
  }

  function tick(now = clock.now()): void {
    for (const s of states.values()) {
      if (s.phase === 'Pending') {
        enterStep(s, 0, now, 'started');
        continue;
      }
      if (!ACTIVE.has(s.phase)) continue;
      if (now >= s.nextAnalysisAt) {
        s.nextAnalysisAt = now + s.plan.analysis.intervalMs;
        analyseStep(s, now);
      }
      if (s.phase === 'Progressing') maybeAdvance(s, now);
    }
    persist();
  }

  function control(key: string, act: (s: RolloutState, now: number) => string | undefined): ControlResult {
    const s = states.get(key);
    if (!s) return { ok: false, error: `no rollout ${key}` };
    const error = act(s, clock.now());
    persist();
    return error === undefined ? { ok: true, phase: s.phase, step: s.step } : { ok: false, error };
  }

  const finished = (s: RolloutState): string => `rollout ${s.key} is ${s.phase}`;

  return {
    upsert,
    remove(key) {
      const had = states.delete(key) || saved.delete(key);
      if (had) {
        dirty = true;
        persist();
      }
    },
    setTargets(key, targets) {
      const s = states.get(key);
      if (!s) return;
      if (targets) s.targets = targets;
      else delete s.targets;
    },
    tick,
    promote: (key) => control(key, (s, now) => {
      if (s.phase === 'Pending') enterStep(s, 0, now, 'started by an operator');
      else if (ACTIVE.has(s.phase)) enterStep(s, s.step + 1, now, 'promoted by an operator');
      else return `${finished(s)}; nothing to promote`;
      return undefined;
    }),
    pause: (key) => control(key, (s, now) => {
      if (s.phase !== 'Progressing') return s.phase === 'Paused' ? `rollout ${s.key} is already paused` : `${finished(s)}; only a progressing rollout can be paused`;
      s.pausedAt = now;
      s.pauseReason = 'operator';
      transition(s, 'Paused', s.step, 'paused by an operator', now);
      return undefined;
    }),
    resume: (key) => control(key, (s, now) => {
      if (s.phase !== 'Paused') return `${finished(s)}; only a paused rollout can be resumed`;
      if (s.pauseReason === 'step') return `rollout ${s.key} waits at a pause step: promote it to continue`;
      // Time spent paused does not count towards the step's duration.
      if (s.stepStartedAt !== null && s.pausedAt !== null) s.stepStartedAt += now - s.pausedAt;
      s.pausedAt = null;
      s.pauseReason = null;
      transition(s, 'Progressing', s.step, 'resumed by an operator', now);
      return undefined;
    }),
    abort: (key, reason) => control(key, (s, now) => {
      if (s.phase !== 'Pending' && !ACTIVE.has(s.phase)) return `${finished(s)}; nothing to abort`;
      s.pausedAt = null;
      s.pauseReason = null;
      transition(s, 'Aborted', s.step, reason ? `aborted by an operator: ${reason}` : 'aborted by an operator', now);
      return undefined;
    }),
    retry: (key) => control(key, (s, now) => {
      if (s.phase !== 'RolledBack' && s.phase !== 'Aborted') return `${finished(s)}; only a rolled back or aborted rollout can be retried`;
      s.failures = 0;
      enterStep(s, 0, now, 'retried by an operator');
      return undefined;
    }),
    override: (key) => {
      const s = states.get(key);
      return s ? overrideOf(s) : undefined;
    },
    status: (key) => {
      const s = states.get(key);
      return s ? statusOf(s, clock.now()) : undefined;
    },
    list: () => [...states.values()].map((s) => statusOf(s, clock.now())),
    start(periodMs = 100) {
      let stopped = false;
      let timer = clock.setTimer(periodMs, function loop() {
        if (stopped) return;
        tick();
        timer = clock.setTimer(periodMs, loop);
      });
      return () => {
        stopped = true;
        timer.cancel();
      };
    },
  };
}
