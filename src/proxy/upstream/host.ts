/**
 * One endpoint of one backend, keyed by backend id + `address:port`: everything Ferry remembers about
 * it (health-check streak, outlier counters and ejections, attempts in flight) lives here and survives
 * snapshot swaps and endpoint updates for as long as the backend lists the endpoint.
 */
import type { Timer } from '../../lib/index.ts';
import type { LbHost } from './balancer.ts';
import type { UpstreamPool } from './pool.ts';

export class Host implements LbHost {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  /** Shared per `protocol|address:port|connect timeout`, across backends. */
  pool: UpstreamPool;
  weight = 1;
  ready = true;
  labels: Readonly<Record<string, string>> = {};
  /** Attempts in flight. */
  active = 0;
  /** hcOk && not ejected; what balancers read. */
  healthy = true;

  /** Active health checks pass (true when the backend has none). */
  hcOk = true;
  hcSuccesses = 0;
  /** At least one probe has finished (the first pass makes a new endpoint healthy). */
  hcChecked = false;
  hcFailures = 0;

  /** Outlier detection: epoch ms when the ejection ends, 0 when not ejected. */
  ejectedUntil = 0;
  timesEjected = 0;
  /** When the last ejection ended (decays `timesEjected`). */
  returnedAt = 0;
  ejectTimer: Timer | null = null;
  consecutive5xx = 0;
  consecutiveGateway = 0;
  consecutiveConnect = 0;

  constructor(address: string, port: number, pool: UpstreamPool) {
    this.key = `${address}:${port}`;
    this.address = address;
    this.port = port;
    this.pool = pool;
  }

  /** Recomputes `healthy`; true when it changed. */
  updateHealthy(): boolean {
    const h = this.hcOk && this.ejectedUntil === 0;
    if (h === this.healthy) return false;
    this.healthy = h;
    return true;
  }
}

/** An endpoint weight as the balancers use it: an integer ≥ 1 (absent, zero or invalid count as 1). */
export function endpointWeight(w: number | undefined): number {
  return w !== undefined && Number.isFinite(w) && w >= 1 ? Math.floor(w) : 1;
}
