/**
 * Upstream state keyed by identity, not by snapshot: one BackendState per backend id (endpoints with
 * their health, balancers, breakers; see backend-state.ts) and one pool per endpoint
 * `protocol|address:port|connect timeout`. Snapshot swaps and endpoint updates edit these in place;
 * a pool is closed only when no backend lists its endpoint any more (or its connect timeout changed).
 */
import type { BackendSpec, Endpoint, EndpointSets } from '../../snapshot/index.ts';
import type { Clock, Random } from '../../lib/index.ts';
import { BackendState } from './backend-state.ts';
import type { UpstreamPool } from './pool.ts';
import { H1Pool } from './h1-pool.ts';
import { H2Pool } from './h2-pool.ts';

export { BackendState } from './backend-state.ts';

const NO_ENDPOINTS: readonly Endpoint[] = [];

export class UpstreamRegistry {
  #specs: Readonly<Record<string, BackendSpec>> = {};
  #endpoints: EndpointSets = new Map();
  readonly #states = new Map<string, BackendState>();
  readonly #pools = new Map<string, UpstreamPool>();
  readonly #clock: Clock;
  readonly #random: Random;
  #used = new Set<string>();

  constructor(clock: Clock, random: Random) {
    this.#clock = clock;
    this.#random = random;
  }

  get(backendId: string): BackendState | undefined {
    return this.#states.get(backendId);
  }

  setBackends(specs: Readonly<Record<string, BackendSpec>>): void {
    this.#specs = specs;
    this.#rebuild();
  }

  setEndpoints(sets: EndpointSets): void {
    this.#endpoints = sets;
    this.#rebuild();
  }

  readonly #poolFor = (spec: BackendSpec, ep: Endpoint): UpstreamPool => {
    const connectMs = spec.policy.connectTimeoutMs;
    const key = `${spec.protocol}|${ep.address}:${ep.port}|${connectMs}`;
    this.#used.add(key);
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = spec.protocol === 'h2c'
        ? new H2Pool(ep.address, ep.port, spec.id, connectMs)
        : new H1Pool(ep.address, ep.port, spec.id, connectMs);
      this.#pools.set(key, pool);
    }
    pool.backendId = spec.id;
    return pool;
  };

  #rebuild(): void {
    this.#used = new Set();
    for (const id of Object.keys(this.#specs)) {
      const spec = this.#specs[id];
      let state = this.#states.get(id);
      if (state === undefined) {
        state = new BackendState(id, spec, this.#clock, this.#random);
        this.#states.set(id, state);
      }
      state.update(spec, this.#endpoints.get(id) ?? NO_ENDPOINTS, this.#poolFor);
    }
    for (const [id, state] of [...this.#states]) {
      if (id in this.#specs) continue;
      state.close();
      this.#states.delete(id);
    }
    for (const [key, pool] of [...this.#pools]) {
      if (this.#used.has(key)) continue;
      this.#pools.delete(key);
      void pool.close();
    }
  }

  /** Number of live pools (for tests and the admin view). */
  poolCount(): number {
    return this.#pools.size;
  }

  #stop(): UpstreamPool[] {
    for (const s of this.#states.values()) s.close();
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    return pools;
  }

  async close(): Promise<void> {
    await Promise.all(this.#stop().map((p) => p.close()));
  }

  async destroy(): Promise<void> {
    await Promise.all(this.#stop().map((p) => p.destroy()));
  }
}
