/**
 * A cancellable wait on the injected clock: providers sleep between retries and re-resolutions with
 * it, and stop() wakes every sleeper at once so no timer outlives a stopped provider.
 */
import type { Clock, Timer } from '../lib/index.ts';

export class Sleeper {
  readonly #clock: Clock;
  readonly #waiting = new Set<{ timer: Timer; wake: () => void }>();
  #closed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Resolves after ms on the clock, or at once when closed; resolves to false when closed. */
  sleep(ms: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const entry = {
        timer: this.#clock.setTimer(ms, () => {
          this.#waiting.delete(entry);
          resolve(!this.#closed);
        }),
        wake: () => resolve(false),
      };
      this.#waiting.add(entry);
    });
  }

  close(): void {
    this.#closed = true;
    for (const entry of this.#waiting) {
      entry.timer.cancel();
      entry.wake();
    }
    this.#waiting.clear();
  }

  get closed(): boolean {
    return this.#closed;
  }
}
