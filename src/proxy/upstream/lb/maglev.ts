/**
 * Maglev consistent hashing (Google's Maglev paper, with Envoy's weighting): a lookup table of 65537
 * entries filled from each endpoint's own permutation, heavier endpoints taking turns more often.
 * O(1) per pick; adding or removing one of n endpoints moves about 1/n of the keys. Like the ring,
 * the table covers every ready endpoint of the level and is rebuilt only when they or their weights
 * change; an unusable endpoint is skipped by probing the following entries.
 */
import type { Balancer, LbHost, LevelView } from '../balancer.ts';
import { NO_HASH, usableIn } from '../balancer.ts';
import { RoundRobin } from './round-robin.ts';
import { hash32 } from './hash.ts';

export const MAGLEV_TABLE_SIZE = 65537;

export class Maglev implements Balancer {
  readonly #fallback = new RoundRobin();
  #version = -1;
  #table = new Int32Array(0);

  #build(hosts: readonly LbHost[]): void {
    const m = MAGLEV_TABLE_SIZE;
    const table = new Int32Array(m).fill(-1);
    const n = hosts.length;
    const offset = new Float64Array(n);
    const skip = new Float64Array(n);
    const next = new Float64Array(n);
    const target = new Float64Array(n);
    let maxW = 0;
    for (let i = 0; i < n; i++) {
      offset[i] = hash32(hosts[i].key, 0x6d61) % m;
      skip[i] = (hash32(hosts[i].key, 0x676c) % (m - 1)) + 1;
      if (hosts[i].weight > maxW) maxW = hosts[i].weight;
    }
    let filled = 0;
    for (let iteration = 1; filled < m; iteration++) {
      for (let i = 0; i < n && filled < m; i++) {
        // An endpoint of weight maxW/k takes a turn every k iterations.
        if (iteration * hosts[i].weight < target[i]) continue;
        target[i] += maxW;
        let c = (offset[i] + next[i] * skip[i]) % m;
        while (table[c] >= 0) { next[i]++; c = (offset[i] + next[i] * skip[i]) % m; }
        table[c] = i;
        next[i]++;
        filled++;
      }
    }
    this.#table = table;
  }

  // HOT PATH
  pick<H extends LbHost>(level: LevelView<H>, hash: number, avoid: H | null): H | undefined {
    if (hash === NO_HASH) return this.#fallback.pick(level, hash, avoid);
    const hosts = level.hosts;
    if (hosts.length === 0) return undefined;
    if (level.version !== this.#version) { this.#build(hosts); this.#version = level.version; }
    const table = this.#table;
    const m = MAGLEV_TABLE_SIZE;
    const start = hash % m;
    let second: H | undefined;
    for (let k = 0; k < m; k++) {
      const h = hosts[table[(start + k) % m]];
      if (!usableIn(level, h)) continue;
      if (h !== avoid) return h;
      second ??= h;
      if (k > 64) break; // only `avoid` nearby: take it rather than scan the table
    }
    return second ?? this.#fallback.pick(level, hash, avoid);
  }
}
