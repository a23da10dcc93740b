/**
 * Upstream state keyed by identity, not by snapshot: one BackendState per backend id (its ready
 * endpoints, balancer and mirror counters) and one pool per endpoint `protocol|address:port`. Snapshot
 * swaps and endpoint updates edit these in place; a pool is closed only when no backend lists its
 * endpoint any more.
 */
import type { BackendSpec, EndpointSets, UpstreamProtocol } from '../../snapshot/index.ts';
import { RoundRobin, type Balancer, type EndpointTarget } from './balancer.ts';
import type { UpstreamPool } from './pool.ts';
import { H1Pool } from './h1-pool.ts';
import { H2Pool } from './h2-pool.ts';

export interface BackendState {
  readonly id: string;
  protocol: UpstreamProtocol;
  /** Ready endpoints; replaced (never mutated) on every update. */
  ready: readonly EndpointTarget[];
  readonly balancer: Balancer;
  /** Mirror requests in flight towards this backend. */
  mirrorInFlight: number;
}

interface PoolEntry {
  readonly pool: UpstreamPool;
  readonly target: EndpointTarget;
}

export class UpstreamRegistry {
  #specs: Readonly<Record<string, BackendSpec>> = {};
  #endpoints: EndpointSets = new Map();
  readonly #states = new Map<string, BackendState>();
  readonly #pools = new Map<string, PoolEntry>();

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

  #rebuild(): void {
    const used = new Set<string>();
    for (const id of Object.keys(this.#specs)) {
      const spec = this.#specs[id];
      let state = this.#states.get(id);
      if (state === undefined) {
        state = { id, protocol: spec.protocol, ready: [], balancer: new RoundRobin(), mirrorInFlight: 0 };
        this.#states.set(id, state);
      }
      state.protocol = spec.protocol;
      const ready: EndpointTarget[] = [];
      for (const ep of this.#endpoints.get(id) ?? []) {
        const key = `${spec.protocol}|${ep.address}:${ep.port}`;
        used.add(key);
        let entry = this.#pools.get(key);
        if (entry === undefined) {
          const pool = spec.protocol === 'h2c' ? new H2Pool(ep.address, ep.port, id) : new H1Pool(ep.address, ep.port, id);
          entry = { pool, target: { key: `${ep.address}:${ep.port}`, address: ep.address, port: ep.port, pool } };
          this.#pools.set(key, entry);
        }
        entry.pool.backendId = id;
        if (ep.ready !== false) ready.push(entry.target);
      }
      state.ready = ready;
    }
    for (const id of [...this.#states.keys()]) if (!(id in this.#specs)) this.#states.delete(id);
    for (const [key, entry] of [...this.#pools]) {
      if (!used.has(key)) {
        this.#pools.delete(key);
        void entry.pool.close();
      }
    }
  }

  /** Number of live pools (for tests and the admin view). */
  poolCount(): number {
    return this.#pools.size;
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.pool.close()));
  }

  async destroy(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.pool.destroy()));
  }
}
