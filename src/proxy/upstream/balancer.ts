/**
 * Endpoint choice. A Balancer picks among the ready endpoints of one backend; its state lives in the
 * backend's state, which survives snapshot swaps and endpoint updates. Round robin is the default.
 */
import type { UpstreamPool } from './pool.ts';

export interface EndpointTarget {
  /** `address:port`. */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly pool: UpstreamPool;
}

export interface Balancer {
  /** Picks an endpoint, preferring one other than `avoid` (the endpoint of a failed attempt). */
  pick(ready: readonly EndpointTarget[], avoid: EndpointTarget | null): EndpointTarget | undefined;
}

export class RoundRobin implements Balancer {
  #next = 0;

  // HOT PATH
  pick(ready: readonly EndpointTarget[], avoid: EndpointTarget | null): EndpointTarget | undefined {
    const n = ready.length;
    if (n === 0) return undefined;
    let i = this.#next++ % n;
    if (this.#next > 0x3fffffff) this.#next = 0;
    if (avoid !== null && n > 1 && ready[i] === avoid) i = (i + 1) % n;
    return ready[i];
  }
}
