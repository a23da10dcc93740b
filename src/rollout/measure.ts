/**
 * Measurements for rollout analysis taken from the request windows. Live requests are recorded by
 * the windows themselves (from the request channel) under the backend that served them; mirrored
 * responses and diff verdicts have no request record, so whoever mirrors records them under the
 * candidate's `mirror:` and `diff:` series keys with the helpers below.
 */
import type { RequestWindows } from '../observe/window.ts';
import type { Measure } from './types.ts';

/** Series key for the candidate's answers to mirrored requests. */
export function mirrorSeries(candidateBackendId: string): string {
  return `mirror:${candidateBackendId}`;
}

/** Series key for diff verdicts on mirrored requests (count = compared, errors = differing). */
export function diffSeries(candidateBackendId: string): string {
  return `diff:${candidateBackendId}`;
}

/** Records the candidate's answer to a mirrored request. */
export function recordMirrored(
  windows: Pick<RequestWindows, 'record'>,
  ruleId: string,
  candidateBackendId: string,
  at: number,
  durationMs: number,
  failed: boolean,
): void {
  windows.record(ruleId, mirrorSeries(candidateBackendId), at, durationMs, failed);
}

/** Records whether a mirrored response differed from stable's (as the diff aggregator judged it). */
export function recordDiffVerdict(
  windows: Pick<RequestWindows, 'record'>,
  ruleId: string,
  candidateBackendId: string,
  at: number,
  differing: boolean,
): void {
  windows.record(ruleId, diffSeries(candidateBackendId), at, 0, differing);
}

/** A Measure reading the windows: live traffic per backend, or mirrored answers and diff verdicts. */
export function windowMeasure(windows: Pick<RequestWindows, 'stats'>): Measure {
  return (req, windowMs, now) => {
    const t = req.targets;
    if (!t) return undefined;
    const stable = windows.stats(t.ruleId, t.stableBackendId, windowMs, now);
    if (req.mode === 'traffic') {
      return { mode: 'traffic', stable, candidate: windows.stats(t.ruleId, t.candidateBackendId, windowMs, now) };
    }
    const diff = windows.stats(t.ruleId, diffSeries(t.candidateBackendId), windowMs, now);
    return {
      mode: 'mirror',
      stable,
      candidate: windows.stats(t.ruleId, mirrorSeries(t.candidateBackendId), windowMs, now),
      diff: { compared: diff.count, differing: diff.errors },
    };
  };
}
