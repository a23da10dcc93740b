/**
 * Exponential backoff with jitter for discovery retries: 250 ms doubling up to 30 s by default, each
 * delay drawn uniformly from [delay/2, delay] ("equal jitter") so that many sources failing together
 * (one Consul agent or API server going away) do not retry in lockstep.
 */
import type { Random } from '../lib/index.ts';

export interface BackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
}

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #random: Random;
  #attempt = 0;

  constructor(random: Random, opts: BackoffOptions = {}) {
    this.#initialMs = opts.initialMs ?? 250;
    this.#maxMs = opts.maxMs ?? 30_000;
    this.#random = random;
  }

  /** The delay before the next retry; each call doubles the ceiling until maxMs. */
  next(): number {
    const ceiling = Math.min(this.#maxMs, this.#initialMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(ceiling / 2 + this.#random() * (ceiling / 2));
  }

  /** After a success: the next failure starts from initialMs again. */
  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}
