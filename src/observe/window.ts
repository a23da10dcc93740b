/**
 * Sliding windows of recent requests per (rule id, backend id), for rollout analysis: counts, errors
 * and a latency histogram per time bucket in a ring, so memory per series is fixed whatever the
 * request rate and recording a request is a few array increments (no allocation once the series
 * exists). Subscribes to the data plane's request channel; other measurements (mirrored responses,
 * diff verdicts) are recorded directly under their own backend keys.
 *
 * Latency percentiles come from log-scale bins four per doubling from 0.1 ms (so a reported value
 * is within ~9% of the true one: the bin's geometric middle), up to ~100 s; longer goes to the last bin.
 */
import { requestChannel, type RequestRecord } from '../snapshot/index.ts';

export interface WindowStats {
  /** Requests that finished in the window. */
  readonly count: number;
  /** Failed requests: status ≥ 500, or an error other than the client going away. */
  readonly errors: number;
  /** Percentage (0-100) of requests that did not fail; 100 when count is 0. */
  readonly successRate: number;
  /** Latency percentiles in ms (0 when count is 0). */
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
}

export interface RequestWindowOptions {
  /** Width of one time bucket. Default 250 ms. */
  readonly bucketMs?: number;
  /** Longest window that can be asked for; older buckets are overwritten. Default 60 s. */
  readonly maxWindowMs?: number;
  /** Most series kept at once; past it, new series are not recorded (counted in `dropped`). Default 256. */
  readonly maxSeries?: number;
  /** A series not updated for this long is removed to make room. Default 2 × maxWindowMs. */
  readonly idleMs?: number;
}

export interface RequestWindows {
  /** Records one outcome. `at` is when it finished (epoch ms). */
  record(ruleId: string, backendId: string, at: number, durationMs: number, failed: boolean): void;
  /** Records a finished request from the data plane (ignored when it has no rule or backend). */
  onRequest(rec: RequestRecord): void;
  /** Aggregates the window ending at `now` (at most maxWindowMs; bucket granularity). */
  stats(ruleId: string, backendId: string, windowMs: number, now: number): WindowStats;
  /** Removes series idle since before `now - idleMs`. */
  prune(now: number): void;
  /** Number of series held, and outcomes not recorded because the series cap was reached. */
  size(): { series: number; dropped: number };
  /** Starts observing the request channel; the returned function stops it. */
  subscribe(): () => void;
}

const MIN_MS = 0.1;
const PER_DOUBLING = 4;
/** Bin 0: ≤ 0.1 ms; bins 1..80: four per doubling up to 0.1 ms × 2^20 ≈ 105 s; last bin: longer. */
export const LATENCY_BINS = 2 + 20 * PER_DOUBLING;

/** Errors that say nothing about the backend (the client left, or Ferry answered by design). */
const NOT_FAILURES: ReadonlySet<string> = new Set(['client_aborted', 'redirect']);

/** True when a finished request counts as a failure of its backend. */
export function isFailure(status: number, error: string | undefined): boolean {
  return status >= 500 || (error !== undefined && !NOT_FAILURES.has(error));
}

function binOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const b = 1 + Math.floor(Math.log2(ms / MIN_MS) * PER_DOUBLING);
  return b >= LATENCY_BINS ? LATENCY_BINS - 1 : b;
}

/** A representative latency for a bin: the geometric middle of its bounds. */
function binValue(bin: number): number {
  if (bin === 0) return MIN_MS;
  return MIN_MS * 2 ** ((bin - 0.5) / PER_DOUBLING);
}

class Series {
  readonly epoch: Float64Array;
  readonly counts: Uint32Array;
  readonly errors: Uint32Array;
  readonly hist: Uint32Array;
  lastUpdate = 0;

  constructor(slots: number) {
    this.epoch = new Float64Array(slots).fill(-1);
    this.counts = new Uint32Array(slots);
    this.errors = new Uint32Array(slots);
    this.hist = new Uint32Array(slots * LATENCY_BINS);
  }
}

const EMPTY: WindowStats = Object.freeze({ count: 0, errors: 0, successRate: 100, p50: 0, p90: 0, p95: 0, p99: 0 });

export function createRequestWindows(opts: RequestWindowOptions = {}): RequestWindows {
  const bucketMs = opts.bucketMs ?? 250;
  const maxWindowMs = opts.maxWindowMs ?? 60_000;
  if (!(bucketMs > 0) || !(maxWindowMs >= bucketMs)) throw new Error('window buckets must be positive and no wider than the window');
  // One extra slot so a full window plus the bucket in progress fit together.
  const slots = Math.ceil(maxWindowMs / bucketMs) + 1;
  const maxSeries = opts.maxSeries ?? 256;
  const idleMs = opts.idleMs ?? 2 * maxWindowMs;
  const byRule = new Map<string, Map<string, Series>>();
  let seriesCount = 0;
  let dropped = 0;
  const scratch = new Float64Array(LATENCY_BINS);

  function prune(now: number): void {
    for (const [rule, backends] of byRule) {
      for (const [backend, s] of backends) {
        if (s.lastUpdate < now - idleMs) {
          backends.delete(backend);
          seriesCount--;
        }
      }
      if (backends.size === 0) byRule.delete(rule);
    }
  }

  function seriesFor(ruleId: string, backendId: string, at: number): Series | undefined {
    let backends = byRule.get(ruleId);
    const existing = backends?.get(backendId);
    if (existing) return existing;
    if (seriesCount >= maxSeries) {
      prune(at);
      if (seriesCount >= maxSeries) return undefined;
      backends = byRule.get(ruleId);
    }
    if (!backends) {
      backends = new Map();
      byRule.set(ruleId, backends);
    }
    const s = new Series(slots);
    backends.set(backendId, s);
    seriesCount++;
    return s;
  }

  function record(ruleId: string, backendId: string, at: number, durationMs: number, failed: boolean): void {
    const s = seriesFor(ruleId, backendId, at);
    if (!s) {
      dropped++;
      return;
    }
    const idx = Math.floor(at / bucketMs);
    const slot = idx % slots;
    const current = s.epoch[slot];
    if (current !== idx) {
      if (current > idx) return; // older than the ring holds
      s.epoch[slot] = idx;
      s.counts[slot] = 0;
      s.errors[slot] = 0;
      s.hist.fill(0, slot * LATENCY_BINS, (slot + 1) * LATENCY_BINS);
    }
    s.counts[slot]++;
    if (failed) s.errors[slot]++;
    s.hist[slot * LATENCY_BINS + binOf(durationMs)]++;
    if (at > s.lastUpdate) s.lastUpdate = at;
  }

  function onRequest(rec: RequestRecord): void {
    if (rec.rule === null || rec.backend === null) return;
    record(rec.rule, rec.backend, rec.startTime + rec.durationMs, rec.durationMs, isFailure(rec.status, rec.error));
  }

  function percentile(total: number, q: number): number {
    const rank = Math.max(1, Math.ceil(total * q));
    let seen = 0;
    for (let b = 0; b < LATENCY_BINS; b++) {
      seen += scratch[b];
      if (seen >= rank) return binValue(b);
    }
    return binValue(LATENCY_BINS - 1);
  }

  function stats(ruleId: string, backendId: string, windowMs: number, now: number): WindowStats {
    const s = byRule.get(ruleId)?.get(backendId);
    if (!s) return EMPTY;
    const last = Math.floor(now / bucketMs);
    const n = Math.min(slots - 1, Math.max(1, Math.ceil(Math.min(windowMs, maxWindowMs) / bucketMs)));
    scratch.fill(0);
    let count = 0;
    let errors = 0;
    for (let idx = last - n + 1; idx <= last; idx++) {
      const slot = ((idx % slots) + slots) % slots;
      if (s.epoch[slot] !== idx) continue;
      count += s.counts[slot];
      errors += s.errors[slot];
      const base = slot * LATENCY_BINS;
      for (let b = 0; b < LATENCY_BINS; b++) scratch[b] += s.hist[base + b];
    }
    if (count === 0) return EMPTY;
    return {
      count,
      errors,
      successRate: ((count - errors) / count) * 100,
      p50: percentile(count, 0.5),
      p90: percentile(count, 0.9),
      p95: percentile(count, 0.95),
      p99: percentile(count, 0.99),
    };
  }

  let subscribed = false;
  const listener = (message: unknown): void => onRequest(message as RequestRecord);

  return {
    record,
    onRequest,
    stats,
    prune,
    size: () => ({ series: seriesCount, dropped }),
    subscribe() {
      if (subscribed) throw new Error('request windows are already subscribed');
      subscribed = true;
      requestChannel.subscribe(listener);
      return () => {
        if (!subscribed) return;
        subscribed = false;
        requestChannel.unsubscribe(listener);
      };
    },
  };
}
