/**
 * Circuit breaking per backend, counted at the backend (not per endpoint pool, so limits hold however
 * many endpoints there are and no pool is rebuilt when the endpoint count changes):
 * - maxRequests: attempts in flight plus attempts waiting; one more is refused (503 overflow).
 * - maxConnections (HTTP/1.1 only): an HTTP/1.1 attempt holds one upstream connection while it runs
 *   (no pipelining), so at most maxConnections attempts run at once; further ones wait in a FIFO.
 *   h2c multiplexes streams over a session per endpoint and is limited by maxRequests only.
 * - maxPendingRequests: attempts waiting for a connection; one more is refused.
 * - maxRetries: retries in flight; beyond it a failure is not retried (the failure is answered).
 * Refusals answer at once; nothing waits for a timeout.
 */
import type { CircuitBreakerSpec } from '../../snapshot/index.ts';

export interface Waiter {
  /** Called when a connection slot frees up; false when the waiter was cancelled meanwhile. */
  start(): boolean;
}

export const ADMIT_RUN = 0;
export const ADMIT_WAIT = 1;
export const ADMIT_OVERFLOW = 2;

export class Breaker {
  spec: CircuitBreakerSpec;
  /** Apply maxConnections (HTTP/1.1 backends). */
  limitConnections: boolean;
  running = 0;
  waiting = 0;
  retries = 0;
  readonly #queue: Waiter[] = [];

  constructor(spec: CircuitBreakerSpec, limitConnections: boolean) {
    this.spec = spec;
    this.limitConnections = limitConnections;
  }

  // HOT PATH
  admit(): number {
    const s = this.spec;
    if (this.running + this.waiting >= s.maxRequests) return ADMIT_OVERFLOW;
    if (!this.limitConnections || this.running < s.maxConnections) return ADMIT_RUN;
    return this.waiting >= s.maxPendingRequests ? ADMIT_OVERFLOW : ADMIT_WAIT;
  }

  wait(w: Waiter): void {
    this.waiting++;
    this.#queue.push(w);
  }

  /** A waiter gave up (client gone, request timeout). */
  cancelled(): void {
    this.waiting--;
  }

  /** An attempt finished: hand its slot to the next waiter. */
  // HOT PATH
  release(): void {
    this.running--;
    const q = this.#queue;
    while (q.length > 0 && (!this.limitConnections || this.running < this.spec.maxConnections)) {
      const w = q.shift()!;
      if (w.start()) break;
    }
  }
}
