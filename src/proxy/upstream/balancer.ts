/**
 * The balancer contract. A Balancer picks one endpoint inside one priority level of one backend; the
 * backend (backend-state.ts) chooses the level first. Balancers keep their state (round-robin
 * position, rings, tables) across snapshot swaps and endpoint updates: rings and tables are rebuilt
 * only when the level's `version` changes, i.e. when its endpoints or their weights change, never on
 * a health change (an unusable endpoint is skipped at pick time instead). Every implementation runs
 * the shared suite in balancer.contract.ts.
 */

/** What a balancer reads from an endpoint. */
export interface LbHost {
  /** `address:port`. */
  readonly key: string;
  /** Relative weight, an integer ≥ 1. */
  readonly weight: number;
  /** Attempts in flight to this endpoint (least request). */
  readonly active: number;
  /** Not ejected by outlier detection and passing active health checks. */
  readonly healthy: boolean;
}

/** One priority level as the balancer sees it. */
export interface LevelView<H extends LbHost = LbHost> {
  /** Every ready endpoint of the level, in a stable order. */
  readonly hosts: readonly H[];
  /** The endpoints to use now: the healthy ones, or every host when the level is in panic. Replaced, never mutated. */
  readonly usable: readonly H[];
  /** When true every host is usable, healthy or not. */
  readonly panic: boolean;
  /** Changes (to a value no other level ever had) only when `hosts` or their weights change. */
  readonly version: number;
}

/** The request has no hash key (no header, cookie or parameter to hash, or no hash policy). */
export const NO_HASH = -1;

export interface Balancer {
  /**
   * Picks an endpoint, preferring one other than `avoid` (the endpoint of a failed attempt).
   * `hash` is the request's 32-bit key hash, or NO_HASH. Undefined only when nothing is usable.
   */
  pick<H extends LbHost>(level: LevelView<H>, hash: number, avoid: H | null): H | undefined;
}

/** Whether `h` may take traffic in `level`. */
export function usableIn(level: LevelView, h: LbHost): boolean {
  return level.panic || h.healthy;
}
