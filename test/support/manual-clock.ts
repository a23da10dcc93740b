/**
 * A Clock for tests and simulations that only moves when told to: timers fire from advance(), in
 * due order. Lets tests drive backoff, re-resolution, analysis and rollout schedules without
 * sleeping, and check that a stopped component left no timer behind.
 */
import type { Clock, Timer } from '../../src/lib/index.ts';

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Set<Pending>();
  /** Every delay ever passed to setTimer, in order (for asserting backoff schedules). */
  readonly delays: number[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const t: Pending = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.delays.push(ms);
    this.#timers.add(t);
    return { cancel: () => void this.#timers.delete(t) };
  }

  /** Moves time forward, firing every timer that falls due (including ones set while firing). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const t of this.#timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.#timers.delete(next);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
  }

  /** Timers set and not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.size;
  }

  pendingTimers(): number {
    return this.#timers.size;
  }
}
