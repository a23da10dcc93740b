/**
 * Least request: power of two choices. Two distinct endpoints are drawn in proportion to their
 * weights and the one with fewer attempts in flight per unit of weight wins (ties go to the first
 * draw, so an idle backend spreads exactly by weight). O(1) per pick whatever the endpoint count.
 */
import type { Random } from '../../../lib/index.ts';
import type { Balancer, LbHost, LevelView } from '../balancer.ts';
import { WeightedDraw } from './weights.ts';

export class LeastRequest implements Balancer {
  readonly #draw: WeightedDraw;

  constructor(random: Random) {
    this.#draw = new WeightedDraw(random);
  }

  // HOT PATH
  pick<H extends LbHost>(level: LevelView<H>, _hash: number, avoid: H | null): H | undefined {
    const hosts = level.usable;
    const n = hosts.length;
    if (n === 0) return undefined;
    if (n === 1) return hosts[0];
    const a = this.#draw.index(hosts);
    let b = this.#draw.index(hosts);
    for (let tries = 0; b === a && tries < 3; tries++) b = this.#draw.index(hosts);
    if (b === a) b = (a + 1) % n;
    let first = hosts[a];
    let second = hosts[b];
    if (first === avoid) { first = second; second = hosts[a]; }
    else if (second !== avoid && second.active * first.weight < first.active * second.weight) return second;
    return first;
  }
}
