/**
 * Round robin, the default. Equal weights: a plain rotating index. Unequal weights: smooth weighted
 * round robin (nginx's algorithm: each pick adds every weight to its endpoint's running score and
 * takes the highest, which then pays back the total), so a 3:1 split interleaves as a a b a rather
 * than a a a b. The score array is reset whenever the usable list changes.
 */
import type { Balancer, LbHost, LevelView } from '../balancer.ts';

export class RoundRobin implements Balancer {
  #next = 0;
  #for: readonly LbHost[] | null = null;
  /** Smooth WRR running scores; null when every weight is equal. */
  #scores: Float64Array | null = null;
  #total = 0;

  #reset(hosts: readonly LbHost[]): void {
    this.#for = hosts;
    let total = 0;
    let equal = true;
    for (const h of hosts) { total += h.weight; if (h.weight !== hosts[0].weight) equal = false; }
    this.#total = total;
    this.#scores = equal ? null : new Float64Array(hosts.length);
  }

  #smooth(hosts: readonly LbHost[], scores: Float64Array): number {
    let best = 0;
    for (let i = 0; i < hosts.length; i++) {
      scores[i] += hosts[i].weight;
      if (scores[i] > scores[best]) best = i;
    }
    scores[best] -= this.#total;
    return best;
  }

  // HOT PATH
  pick<H extends LbHost>(level: LevelView<H>, _hash: number, avoid: H | null): H | undefined {
    const hosts = level.usable;
    const n = hosts.length;
    if (n === 0) return undefined;
    if (hosts !== this.#for) this.#reset(hosts);
    const scores = this.#scores;
    let i: number;
    if (scores === null) {
      i = this.#next++ % n;
      if (this.#next > 0x3fffffff) this.#next = 0;
      if (avoid !== null && n > 1 && hosts[i] === avoid) i = (i + 1) % n;
    } else {
      i = this.#smooth(hosts, scores);
      if (avoid !== null && n > 1 && hosts[i] === avoid) i = this.#smooth(hosts, scores);
    }
    return hosts[i];
  }
}
