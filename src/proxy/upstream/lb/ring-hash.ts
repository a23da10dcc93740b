/**
 * Ring hash (ketama-style consistent hashing). Each endpoint gets `weight × K` virtual nodes, K the
 * power of two that makes the ring at least `ringSize` entries (so between ringSize and twice it);
 * a request lands on the first node at or after its hash. Placement is a pure function of the
 * endpoints and weights (every Ferry replica places a key alike). Because K only changes when the
 * total weight crosses a power-of-two fraction of ringSize, adding or removing an endpoint moves
 * only that endpoint's keys (~1/n); at those crossings about half the keys move once. The ring is
 * built over every ready endpoint of the level and rebuilt only when they or their weights change;
 * an unusable endpoint (unhealthy, ejected) is skipped by walking on, so its keys spread over the
 * others and come straight back when it recovers. Requests without a key go round robin.
 */
import type { Balancer, LbHost, LevelView } from '../balancer.ts';
import { NO_HASH, usableIn } from '../balancer.ts';
import { RoundRobin } from './round-robin.ts';
import { hash32 } from './hash.ts';

/** Upper bound on ring entries whatever ringSize asks for. */
const MAX_RING = 1 << 22;

export class RingHash implements Balancer {
  readonly #minSize: number;
  readonly #fallback = new RoundRobin();
  #version = -1;
  #points = new Uint32Array(0);
  #owners = new Uint32Array(0);

  constructor(ringSize: number) {
    this.#minSize = Math.max(1, Math.min(MAX_RING, ringSize));
  }

  #build(hosts: readonly LbHost[]): void {
    let total = 0;
    for (const h of hosts) total += h.weight;
    let k = 1;
    while (k * total < this.#minSize && k * 2 * total <= MAX_RING) k *= 2;
    const packed: number[] = [];
    for (let i = 0; i < hosts.length; i++) {
      const count = hosts[i].weight * k;
      const key = hosts[i].key;
      // hash * 2^21 + owner stays exact in a double for up to 2M endpoints.
      for (let j = 0; j < count; j++) packed.push(hash32(`${key}_${j}`) * 2097152 + i);
    }
    const sorted = Float64Array.from(packed).sort();
    this.#points = new Uint32Array(sorted.length);
    this.#owners = new Uint32Array(sorted.length);
    for (let k = 0; k < sorted.length; k++) {
      const owner = sorted[k] % 2097152;
      this.#owners[k] = owner;
      this.#points[k] = (sorted[k] - owner) / 2097152;
    }
  }

  /** Ring entries (for tests). */
  get size(): number { return this.#points.length; }

  // HOT PATH
  pick<H extends LbHost>(level: LevelView<H>, hash: number, avoid: H | null): H | undefined {
    if (hash === NO_HASH) return this.#fallback.pick(level, hash, avoid);
    const hosts = level.hosts;
    if (hosts.length === 0) return undefined;
    if (level.version !== this.#version) { this.#build(hosts); this.#version = level.version; }
    const points = this.#points;
    const len = points.length;
    let lo = 0;
    let hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid] < hash) lo = mid + 1; else hi = mid;
    }
    let second: H | undefined;
    for (let k = 0; k < len; k++) {
      const h = hosts[this.#owners[(lo + k) % len]];
      if (!usableIn(level, h)) continue;
      if (h !== avoid) return h;
      second ??= h;
    }
    return second;
  }
}
