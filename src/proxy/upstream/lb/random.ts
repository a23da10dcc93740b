/** Weighted random choice among the usable endpoints. */
import type { Random } from '../../../lib/index.ts';
import type { Balancer, LbHost, LevelView } from '../balancer.ts';
import { WeightTable } from './weights.ts';

export class RandomBalancer implements Balancer {
  readonly #random: Random;
  #table: WeightTable | null = null;

  constructor(random: Random) {
    this.#random = random;
  }

  // HOT PATH
  pick<H extends LbHost>(level: LevelView<H>, _hash: number, avoid: H | null): H | undefined {
    const hosts = level.usable;
    const n = hosts.length;
    if (n === 0) return undefined;
    let t = this.#table;
    if (t === null || t.hosts !== hosts) t = this.#table = new WeightTable(hosts);
    let i = t.index(this.#random());
    if (avoid !== null && n > 1 && hosts[i] === avoid) {
      i = t.index(this.#random());
      if (hosts[i] === avoid) i = (i + 1) % n;
    }
    return hosts[i];
  }
}
