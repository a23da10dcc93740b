/** Weighted random choice among the usable endpoints. */
import type { Random } from '../../../lib/index.ts';
import type { Balancer, LbHost, LevelView } from '../balancer.ts';
import { WeightedDraw } from './weights.ts';

export class RandomBalancer implements Balancer {
  readonly #draw: WeightedDraw;

  constructor(random: Random) {
    this.#draw = new WeightedDraw(random);
  }

  // HOT PATH
  pick<H extends LbHost>(level: LevelView<H>, _hash: number, avoid: H | null): H | undefined {
    const hosts = level.usable;
    const n = hosts.length;
    if (n === 0) return undefined;
    let i = this.#draw.index(hosts);
    if (avoid !== null && n > 1 && hosts[i] === avoid) {
      i = this.#draw.index(hosts);
      if (hosts[i] === avoid) i = (i + 1) % n;
    }
    return hosts[i];
  }
}
