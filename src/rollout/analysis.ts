/**
 * Judges one step from measurements: the candidate's success rate, its latency against stable's,
 * and the diff rate of mirrored responses. Pure. Too few samples on either side is inconclusive
 * (never a pass, never a failure), so a rollout never advances on no traffic and never rolls back on
 * a handful of requests.
 */
import type { WindowStats } from '../observe/window.ts';
import type { AnalysisMode } from './spec.ts';

/** Latency differences below this never fail `maxRatio` (see the latency check). */
export const DEFAULT_LATENCY_TOLERANCE_MS = 5;

export type Verdict = 'pass' | 'fail' | 'inconclusive';

export interface Check {
  readonly name: 'samples' | 'successRate' | 'latency' | 'diff';
  readonly verdict: Verdict;
  /** The measured value (percent, ms or count), or null when there was nothing to measure. */
  readonly value: number | null;
  readonly threshold: number | null;
  readonly message: string;
}

export interface AnalysisResult {
  readonly verdict: Verdict;
  readonly checks: readonly Check[];
  /** The first failing check's message, else the first inconclusive one's, else a pass summary. */
  readonly message: string;
}

export interface AnalysisInput {
  /** `traffic` (default): candidate vs stable on live requests; `mirror`: mirrored responses and diffs. */
  readonly mode?: Exclude<AnalysisMode, 'none'>;
  /** Live candidate requests, or in mirror mode the candidate's answers to mirrored requests. */
  readonly candidate: WindowStats;
  readonly stable: WindowStats;
  /**
   * True when the step sends stable no live traffic (weight 100): the candidate is judged alone
   * (success rate, latency against maxMs), and stable's sample count is not required.
   */
  readonly stableIdle?: boolean;
  /** Mirrored comparisons in the window and how many counted as differing. */
  readonly diff?: { readonly compared: number; readonly differing: number };
}

/** The analysis settings read here; both the spec's and the resolved form fit. */
export interface AnalysisSettings {
  readonly minSamples?: number;
  readonly successRate?: { readonly min: number };
  readonly latency?: { readonly percentile?: 50 | 90 | 95 | 99; readonly maxRatio?: number; readonly maxMs?: number; readonly toleranceMs?: number };
  readonly diff?: { readonly maxRate: number };
}

const pct = (n: number): string => `${Number(n.toFixed(2))}%`;
const msText = (n: number): string => `${Number(n.toFixed(1))} ms`;

function samplesCheck(sides: readonly [string, number][], min: number): Check {
  const short = sides.filter(([, n]) => n < min).sort((a, b) => a[1] - b[1]);
  const value = Math.min(...sides.map(([, n]) => n));
  if (short.length === 0) {
    return { name: 'samples', verdict: 'pass', value, threshold: min, message: `${value} samples or more on each side (need ${min})` };
  }
  const [side, n] = short[0];
  return { name: 'samples', verdict: 'inconclusive', value, threshold: min, message: `waiting for traffic: ${n}/${min} samples (${side})` };
}

/** Marks a check as not judged when samples are short, keeping its measured value visible. */
function held(c: Check, enough: boolean): Check {
  if (enough || c.verdict === 'inconclusive') return c;
  return { ...c, verdict: 'inconclusive', message: `not judged yet (too few samples): ${c.message}` };
}

export function analyze(settings: AnalysisSettings | undefined, input: AnalysisInput): AnalysisResult {
  const min = settings?.minSamples ?? 50;
  const mode = input.mode ?? 'traffic';
  const { candidate, stable } = input;
  const checks: Check[] = [];

  // In mirror mode the success rate of mirrored answers is judged when they are measured at all
  // (or when it is the only check); the diff rate needs compared responses.
  const judgeSuccess = settings?.successRate !== undefined && (mode === 'traffic' || candidate.count > 0 || !settings.diff);
  const sides: [string, number][] = [];
  const stableIdle = mode === 'traffic' && input.stableIdle === true;
  if (mode === 'traffic') {
    sides.push(['candidate', candidate.count]);
    if (!stableIdle) sides.push(['stable', stable.count]);
  }
  else {
    if (settings?.diff) sides.push(['compared responses', input.diff?.compared ?? 0]);
    if (judgeSuccess || sides.length === 0) sides.push(['mirrored candidate', candidate.count]);
  }
  const samples = samplesCheck(sides, min);
  const enough = samples.verdict === 'pass';
  checks.push(samples);

  if (settings?.successRate && judgeSuccess) {
    const { min: floor } = settings.successRate;
    const value = candidate.count === 0 ? null : candidate.successRate;
    const ok = value !== null && value >= floor;
    const who = mode === 'mirror' ? 'mirrored candidate' : 'candidate';
    checks.push(held({
      name: 'successRate',
      verdict: value === null ? 'inconclusive' : ok ? 'pass' : 'fail',
      value,
      threshold: floor,
      message: value === null
        ? `no ${who} requests yet`
        : `${who} success rate ${pct(value)} ${ok ? 'meets' : 'is below'} ${pct(floor)} (${candidate.errors} errors in ${candidate.count}; stable ${pct(stable.successRate)})`,
    }, enough));
  }

  // With no stable traffic there is nothing to compare against: only maxMs can be judged.
  if (settings?.latency && mode === 'traffic' && !(stableIdle && settings.latency.maxMs === undefined)) {
    const { maxRatio, maxMs } = settings.latency;
    const p = settings.latency.percentile ?? 99;
    const key = `p${p}` as 'p50' | 'p90' | 'p95' | 'p99';
    const value = candidate.count === 0 ? null : candidate[key];
    const limits: number[] = [];
    // A ratio on a fast service would judge timer jitter (4 ms vs 8 ms): differences under the
    // tolerance never fail the ratio.
    const tolerance = settings.latency.toleranceMs ?? DEFAULT_LATENCY_TOLERANCE_MS;
    if (maxRatio !== undefined && stable.count > 0 && !stableIdle) limits.push(Math.max(stable[key] * maxRatio, stable[key] + tolerance));
    if (maxMs !== undefined) limits.push(maxMs);
    const threshold = limits.length === 0 ? null : Math.min(...limits);
    const ok = value !== null && threshold !== null && value <= threshold;
    const bounds = [
      maxRatio !== undefined && !stableIdle ? `${maxRatio}× stable p${p} ${msText(stable[key])}` : '',
      maxMs !== undefined ? msText(maxMs) : '',
    ].filter(Boolean).join(' and ');
    checks.push(held({
      name: 'latency',
      verdict: value === null || threshold === null ? 'inconclusive' : ok ? 'pass' : 'fail',
      value,
      threshold,
      message: value === null || threshold === null
        ? `no p${p} latency to compare yet`
        : `candidate p${p} ${msText(value)} ${ok ? 'within' : 'exceeds'} ${bounds}`,
    }, enough));
  }

  if (settings?.diff && mode === 'mirror') {
    const compared = input.diff?.compared ?? 0;
    const value = compared === 0 ? null : ((input.diff?.differing ?? 0) / compared) * 100;
    const { maxRate } = settings.diff;
    const ok = value !== null && value <= maxRate;
    checks.push(held({
      name: 'diff',
      verdict: value === null ? 'inconclusive' : ok ? 'pass' : 'fail',
      value,
      threshold: maxRate,
      message: value === null
        ? 'no responses compared yet'
        : `${pct(value)} of compared responses differ (${input.diff?.differing ?? 0} of ${compared}; at most ${pct(maxRate)})`,
    }, enough));
  }

  const failed = checks.find((c) => c.verdict === 'fail');
  const waiting = checks.find((c) => c.verdict === 'inconclusive');
  const verdict: Verdict = failed ? 'fail' : waiting ? 'inconclusive' : 'pass';
  const message = failed?.message ?? waiting?.message
    ?? (checks.length === 1 ? `${samples.message}; no checks configured for this step` : checks.slice(1).map((c) => c.message).join('; '));
  return { verdict, checks, message };
}
