/**
 * Ring hash (ketama-style consistent hashing). Each endpoint gets `weight × K` virtual nodes
 * (weights first divided by their common divisor), K = ringSize, so the ring is never smaller than
 * ringSize; a request lands on the first node at or after its hash. Placement is a pure function of
 * the endpoints and weights, so every Ferry replica places a key alike, and since K does not depend
 * on the endpoint count, adding or removing an endpoint moves only that endpoint's keys (~1/n).
 * Past 2^20 nodes in all, K shrinks to stay under that bound (large backends then move slightly
 * more than 1/n). The ring is built over every ready endpoint of the level and rebuilt only when
 * they or their weights change; an unusable endpoint (unhealthy, ejected) is skipped by walking on,
 * so its keys spread over the others and come straight back when it recovers. Requests without a
 * key go round robin.
 */
import type { Balancer, LbHost, LevelView } from '../balancer.ts';
import { NO_HASH, usableIn } from '../balancer.ts';
import { RoundRobin } from './round-robin.ts';
import { hash32 } from './hash.ts';

/** Upper bound on ring entries whatever ringSize asks for. */
const MAX_RING = 1 << 20;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

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
    let g = 0;
    for (const h of hosts) g = gcd(g, h.weight);
    let total = 0;
    for (const h of hosts) total += h.weight / g;
    const k = Math.max(1, Math.min(this.#minSize, Math.floor(MAX_RING / total)));
    const packed: number[] = [];
    for (let i = 0; i < hosts.length; i++) {
      const count = (hosts[i].weight / g) * k;
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
