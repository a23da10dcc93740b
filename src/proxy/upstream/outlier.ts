/**
 * Passive outlier detection, after Envoy. Every attempt's outcome updates the endpoint's consecutive
 * counters: a 5xx response counts towards `consecutive5xx` (and 502/503/504 towards
 * `consecutiveGatewayErrors`); a connect failure counts towards all three (it is a gateway error
 * Ferry answers 502 for); a reset or attempt timeout counts as a 5xx gateway error. Any other
 * response resets them. A counter reaching its threshold ejects the endpoint for
 * `baseEjectionMs × times ejected` (capped at maxEjectionMs); it comes back when that time is up,
 * with its counters cleared. `timesEjected` decays by one per `intervalMs` spent back in service.
 *
 * At most maxEjectionPercent of the backend's ready endpoints are ejected at once, rounded down but
 * at least one (so a two-endpoint backend can always eject its dead endpoint; Envoy's classic check
 * behaves the same for any percentage above 0). maxEjectionPercent 0 never ejects.
 *
 * Ejections and returns are published as `ejected` / `uneject` UpstreamEvents.
 */
import { upstreamChannel, type OutlierDetectionSpec, type UpstreamEvent } from '../../snapshot/index.ts';
import type { Clock } from '../../lib/index.ts';
import type { Host } from './host.ts';

/** The backend side the detector needs. */
export interface OutlierOwner {
  readonly ready: readonly Host[];
  /** A host's `healthy` changed: recompute levels. */
  refresh(): void;
  /** Backend id and protocol, for the events. */
  readonly id?: string;
  readonly protocol?: string;
}

function publish(type: UpstreamEvent['type'], owner: OutlierOwner, h: Host): void {
  if (upstreamChannel.hasSubscribers) {
    upstreamChannel.publish({ type, backend: owner.id ?? '', endpoint: h.key, protocol: owner.protocol ?? '' } satisfies UpstreamEvent);
  }
}

/** An ejection ended other than by its timer (detection turned off). */
export function publishUneject(owner: OutlierOwner, h: Host): void {
  publish('uneject', owner, h);
}

export class OutlierDetector {
  spec: OutlierDetectionSpec;
  readonly #clock: Clock;
  readonly #owner: OutlierOwner;

  constructor(spec: OutlierDetectionSpec, clock: Clock, owner: OutlierOwner) {
    this.spec = spec;
    this.#clock = clock;
    this.#owner = owner;
  }

  /** A response arrived with `status`. */
  // HOT PATH (outlier detection on)
  response(h: Host, status: number): void {
    if (status < 500) {
      h.consecutive5xx = 0;
      h.consecutiveGateway = 0;
      h.consecutiveConnect = 0;
      return;
    }
    h.consecutiveConnect = 0;
    const s = this.spec;
    let trip = s.consecutive5xx > 0 && ++h.consecutive5xx >= s.consecutive5xx;
    if (status >= 502 && status <= 504) {
      if (s.consecutiveGatewayErrors > 0 && ++h.consecutiveGateway >= s.consecutiveGatewayErrors) trip = true;
    } else {
      h.consecutiveGateway = 0;
    }
    if (trip) this.#eject(h);
  }

  /** The attempt failed without a response: `connect` (never connected) or a reset/timeout. */
  failure(h: Host, connect: boolean): void {
    const s = this.spec;
    let trip = s.consecutive5xx > 0 && ++h.consecutive5xx >= s.consecutive5xx;
    if (s.consecutiveGatewayErrors > 0 && ++h.consecutiveGateway >= s.consecutiveGatewayErrors) trip = true;
    if (connect) {
      if (s.consecutiveConnectFailures > 0 && ++h.consecutiveConnect >= s.consecutiveConnectFailures) trip = true;
    }
    if (trip) this.#eject(h);
  }

  #eject(h: Host): void {
    if (h.ejectedUntil !== 0) return;
    const s = this.spec;
    const ready = this.#owner.ready;
    if (s.maxEjectionPercent <= 0) return;
    const allowed = Math.max(1, Math.floor((ready.length * s.maxEjectionPercent) / 100));
    let ejected = 0;
    for (const r of ready) if (r.ejectedUntil !== 0) ejected++;
    if (ejected >= allowed) return;
    const now = this.#clock.now();
    if (h.returnedAt > 0 && s.intervalMs > 0) {
      h.timesEjected = Math.max(0, h.timesEjected - Math.floor((now - h.returnedAt) / s.intervalMs));
    }
    h.timesEjected++;
    const ms = Math.min(s.maxEjectionMs, s.baseEjectionMs * h.timesEjected);
    h.ejectedUntil = now + ms;
    h.ejectTimer = this.#clock.setTimer(ms, () => { h.ejectTimer = null; this.#return(h); });
    publish('ejected', this.#owner, h);
    if (h.updateHealthy()) this.#owner.refresh();
  }

  #return(h: Host): void {
    if (h.ejectedUntil === 0) return;
    release(h, this.#clock.now());
    publish('uneject', this.#owner, h);
    if (h.updateHealthy()) this.#owner.refresh();
  }
}

/** Ends an ejection now (time up, detection turned off, or the endpoint went away). */
export function release(h: Host, now: number): void {
  h.ejectTimer?.cancel();
  h.ejectTimer = null;
  h.ejectedUntil = 0;
  h.returnedAt = now;
  h.consecutive5xx = 0;
  h.consecutiveGateway = 0;
  h.consecutiveConnect = 0;
}
