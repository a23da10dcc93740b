/**
 * Injectable time. Everything that waits or measures takes a Clock so tests can drive time without
 * sleeping; production code uses `systemClock`.
 */

export interface Timer { cancel(): void }

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Monotonic milliseconds with sub-millisecond precision, for measuring durations. */
  monotonic(): number;
  /** Runs `fn` after `ms` milliseconds; the timer does not keep the process alive. */
  setTimer(ms: number, fn: () => void): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};
