/**
 * The controller's view of one rollout for people and the admin API: the traffic it currently
 * imposes, and a one-line message saying what it is doing or waiting for.
 */
import { CANDIDATE_ONLY, STABLE_ONLY, type TrafficOverride } from './spec.ts';
import type { RolloutState, RolloutStatus } from './types.ts';

const secs = (ms: number): string => `${Number((ms / 1000).toFixed(1))}s`;

/** The traffic a rollout imposes on its rule: stable only unless a step (or completion) says otherwise. */
export function overrideOf(s: RolloutState): TrafficOverride {
  let t: TrafficOverride;
  if (s.phase === 'Progressing' || s.phase === 'Paused') t = s.plan.steps[s.step].traffic;
  else if (s.phase === 'Completed') t = CANDIDATE_ONLY;
  else t = STABLE_ONLY;
  return s.targets ? { ...t, ruleId: s.targets.ruleId } : t;
}

function progressMessage(s: RolloutState, now: number): string {
  const step = s.plan.steps[s.step];
  const head = `step ${s.step + 1}/${s.plan.steps.length} (${step.label})`;
  const elapsed = s.stepStartedAt === null ? 0 : now - s.stepStartedAt;
  const parts: string[] = [];
  if (step.mode !== 'none') {
    const window = s.plan.analysis.windowMs;
    if (!s.last) parts.push('waiting for the first analysis');
    else if (s.last.verdict === 'pass' && s.last.windowMs < window) {
      parts.push(`analysis passing; needs a full window (${secs(s.last.windowMs)} of ${secs(window)})`);
    } else parts.push(s.last.verdict === 'pass' ? `analysis passing: ${s.last.message}` : s.last.message);
  }
  if (step.durationMs !== undefined && elapsed < step.durationMs) parts.push(`${secs(step.durationMs - elapsed)} of ${secs(step.durationMs)} left`);
  return parts.length === 0 ? head : `${head}: ${parts.join('; ')}`;
}

function message(s: RolloutState, now: number): string {
  switch (s.phase) {
    case 'Pending':
      return 'waiting to start';
    case 'Progressing':
      return progressMessage(s, now);
    case 'Paused': {
      const why = s.pauseReason === 'operator' ? 'paused by an operator: resume to continue' : 'paused: promote to continue';
      return `step ${s.step + 1}/${s.plan.steps.length} (${s.plan.steps[s.step].label}) ${why}${s.last ? `; ${s.last.message}` : ''}`;
    }
    case 'Completed':
      return 'completed: the candidate serves all traffic';
    case 'RolledBack':
      return `rolled back at step ${s.step + 1}/${s.plan.steps.length}: ${s.reason}`;
    case 'Aborted':
      return `aborted at step ${s.step + 1}/${s.plan.steps.length}: ${s.reason}`;
  }
}

export function statusOf(s: RolloutState, now: number): RolloutStatus {
  return {
    rollout: s.key,
    phase: s.phase,
    step: s.step,
    totalSteps: s.plan.steps.length,
    stepLabel: s.phase === 'Pending' ? null : s.plan.steps[s.step].label,
    stepStartedAt: s.stepStartedAt,
    override: overrideOf(s),
    lastAnalysis: s.last,
    failures: s.failures,
    failureLimit: s.plan.analysis.failureLimit,
    message: message(s, now),
    history: [...s.history],
    specHash: s.hash,
  };
}
