/**
 * Polling with a deadline: the way tests wait for something asynchronous to become true, instead of
 * sleeping for a guessed amount of time.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface EventuallyOptions {
  /** Give up after this long; default 5000 ms. */
  timeoutMs?: number;
  /** Wait between attempts; default 20 ms. */
  intervalMs?: number;
  /** Prepended to the error thrown on timeout. */
  message?: string;
}

/**
 * Calls `fn` until it returns without throwing (and, when it returns a boolean, until it returns
 * `true`), then resolves with its value. On timeout, rejects with `message` and the last failure.
 */
export async function eventually<T>(fn: () => T | Promise<T>, opts: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const intervalMs = opts.intervalMs ?? 20;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== false) return value;
      lastError = new Error('condition returned false');
    } catch (err) {
      lastError = err;
    }
    if (performance.now() >= deadline) break;
    await delay(intervalMs);
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  const prefix = opts.message ? `${opts.message}: ` : '';
  throw new Error(`${prefix}not satisfied within ${timeoutMs} ms (last: ${reason})`, { cause: lastError });
}
