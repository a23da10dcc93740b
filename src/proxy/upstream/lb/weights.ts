/**
 * Weighted draws shared by the random and least-request balancers: a cumulative weight table built
 * once per endpoint list (lists are replaced, never mutated, so identity says when to rebuild) and a
 * binary search per draw. Equal weights skip the table.
 */
import type { Random } from '../../../lib/index.ts';
import type { LbHost } from '../balancer.ts';

export class WeightTable {
  readonly hosts: readonly LbHost[];
  /** Null when every weight is equal: draw an index directly. */
  readonly cumulative: Float64Array | null;
  readonly total: number;

  constructor(hosts: readonly LbHost[]) {
    this.hosts = hosts;
    let total = 0;
    let equal = true;
    const cum = new Float64Array(hosts.length);
    for (let i = 0; i < hosts.length; i++) {
      total += hosts[i].weight;
      cum[i] = total;
      if (hosts[i].weight !== hosts[0].weight) equal = false;
    }
    this.total = total;
    this.cumulative = equal ? null : cum;
  }

  /** Index for `r` in [0, 1), in proportion to the weights. */
  // HOT PATH
  index(r: number): number {
    const n = this.hosts.length;
    const c = this.cumulative;
    if (c === null) return Math.min(n - 1, Math.floor(r * n));
    const x = r * this.total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (x < c[mid]) hi = mid; else lo = mid + 1;
    }
    return lo;
  }
}

/** Weighted random indexes into the current endpoint list, rebuilding the table when the list changes. */
export class WeightedDraw {
  readonly #random: Random;
  #table: WeightTable | null = null;

  constructor(random: Random) {
    this.#random = random;
  }

  // HOT PATH
  index(hosts: readonly LbHost[]): number {
    let t = this.#table;
    if (t === null || t.hosts !== hosts) t = this.#table = new WeightTable(hosts);
    return t.index(this.#random());
  }
}
