/**
 * Priority levels and panic mode, after Envoy. Each level's health is its healthy share scaled by the
 * overprovisioning factor (100 / minHealthyPercent, so a level at minHealthyPercent counts as fully
 * healthy), capped at 100. Level 0 takes its health as its share of traffic and the next levels take
 * the rest in order, in proportion, normalised so the total is 100.
 *
 * Panic: while the levels together are fully healthy, no level panics. Otherwise a level whose
 * healthy share is below the panic threshold uses every ready endpoint, healthy or not; and when no
 * level has a healthy endpoint at all (or every level with endpoints panics) the traffic is spread
 * over all levels by endpoint count, every endpoint usable ("total panic"), so the backend keeps
 * serving rather than refusing everything. A panic threshold of 0 disables both.
 */

export interface LevelHealth {
  /** Ready endpoints in the level. */
  readonly total: number;
  /** Of which healthy (passing health checks, not ejected). */
  readonly healthy: number;
}

export interface PriorityLoad {
  /** Percent of traffic per level; sums to 100, or to 0 when nothing may be used. */
  readonly load: number[];
  readonly panic: boolean[];
}

export function priorityLoad(levels: readonly LevelHealth[], panicThresholdPercent: number, minHealthyPercent: number): PriorityLoad {
  const n = levels.length;
  const factor = 100 / Math.max(1, Math.min(100, minHealthyPercent));
  const health: number[] = [];
  let sum = 0;
  for (const l of levels) {
    const h = l.total === 0 ? 0 : Math.min(100, Math.floor((factor * 100 * l.healthy) / l.total));
    health.push(h);
    sum += h;
  }
  sum = Math.min(100, sum);
  const panic = new Array<boolean>(n).fill(false);
  const panicOn = panicThresholdPercent > 0;
  let allPanic = sum === 0;
  if (sum < 100 && panicOn && sum > 0) {
    allPanic = true;
    for (let i = 0; i < n; i++) {
      const l = levels[i];
      if (l.total === 0) continue;
      panic[i] = (100 * l.healthy) / l.total < panicThresholdPercent;
      if (!panic[i]) allPanic = false;
    }
  }
  if (allPanic) {
    if (!panicOn) return { load: new Array<number>(n).fill(0), panic };
    let total = 0;
    for (const l of levels) total += l.total;
    return {
      load: levels.map((l) => (total === 0 ? 0 : (100 * l.total) / total)),
      panic: levels.map((l) => l.total > 0),
    };
  }
  const load: number[] = [];
  let remaining = 100;
  for (let i = 0; i < n; i++) {
    const share = Math.min(remaining, (health[i] * 100) / sum);
    load.push(share);
    remaining -= share;
  }
  return { load, panic };
}
