/**
 * The one interface every discovery provider implements (static, Consul, DNS, Kubernetes), and the
 * context the manager hands them. A provider watches one source and reports either a complete
 * endpoint list or an error; it never clears its own list on failure (the manager keeps the last
 * known list), and it retries by itself with backoff until stopped.
 */
import type { Clock, Random } from '../lib/index.ts';
import type { Endpoint } from '../snapshot/index.ts';

export interface DiscoveryLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface ProviderListener {
  /** A complete, current endpoint list (not a delta). May repeat an unchanged list. */
  endpoints(list: readonly Endpoint[]): void;
  /** The source could not be read; the provider retries on its own. */
  error(err: Error): void;
}

export interface ProviderContext {
  readonly clock: Clock;
  readonly random: Random;
  readonly log: DiscoveryLog;
}

export interface Provider {
  /** Begins watching; results and errors arrive on the listener until stop(). */
  start(listener: ProviderListener): void;
  /** Stops watching: cancels timers and open requests; no callback fires once it has returned. */
  stop(): Promise<void>;
}

export const silentLog: DiscoveryLog = { warn() {}, info() {} };

/** Normalises anything thrown into an Error with a useful message. */
export function toError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(typeof err === 'string' ? err : JSON.stringify(err));
}
