/**
 * Active health checking for one backend. Each endpoint the backend lists gets its own probe loop on
 * the injected clock: the first probe after a random delay (up to one interval, at most 1 s, so
 * checks of many endpoints do not fire together), then one every `intervalMs` after the previous one
 * finished, each limited to `timeoutMs`. `healthyThreshold` consecutive passes make an unhealthy
 * endpoint healthy (one pass suffices for an endpoint never checked yet, as in Envoy);
 * `unhealthyThreshold` consecutive failures make a healthy one unhealthy. Endpoints that disappear
 * stop being checked; a probe already running is ignored when it ends. Each flip of an endpoint's
 * check state is published as a `health_failed` or `health_passed` UpstreamEvent.
 */
import { upstreamChannel, type HealthCheckSpec, type UpstreamEvent, type UpstreamProtocol } from '../../snapshot/index.ts';
import type { Clock, Random, Timer } from '../../lib/index.ts';
import type { Host } from './host.ts';
import { probe } from './health-probes.ts';

const MAX_FIRST_DELAY_MS = 1000;

interface Loop {
  timer: Timer | null;
  /** Probes of a stopped or restarted loop are ignored. */
  stopped: boolean;
}

export class HealthChecker {
  #spec: HealthCheckSpec;
  #protocol: UpstreamProtocol;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #onChange: () => void;
  readonly #backendId: string;
  readonly #loops = new Map<Host, Loop>();

  constructor(spec: HealthCheckSpec, protocol: UpstreamProtocol, clock: Clock, random: Random, onChange: () => void, backendId: string) {
    this.#backendId = backendId;
    this.#spec = spec;
    this.#protocol = protocol;
    this.#clock = clock;
    this.#random = random;
    this.#onChange = onChange;
  }

  /** New check parameters: loops restart (with a new first delay), health state is kept. */
  update(spec: HealthCheckSpec, protocol: UpstreamProtocol): void {
    if (JSON.stringify(spec) === JSON.stringify(this.#spec) && protocol === this.#protocol) return;
    this.#spec = spec;
    this.#protocol = protocol;
    for (const h of [...this.#loops.keys()]) { this.remove(h); this.add(h); }
  }

  /** Starts checking `h` (no-op when already checked). */
  add(h: Host): void {
    if (this.#loops.has(h)) return;
    const loop: Loop = { timer: null, stopped: false };
    this.#loops.set(h, loop);
    const first = this.#random() * Math.min(this.#spec.intervalMs, MAX_FIRST_DELAY_MS);
    loop.timer = this.#clock.setTimer(first, () => this.#run(h, loop));
  }

  remove(h: Host): void {
    const loop = this.#loops.get(h);
    if (loop === undefined) return;
    loop.stopped = true;
    loop.timer?.cancel();
    this.#loops.delete(h);
  }

  stop(): void {
    for (const h of [...this.#loops.keys()]) this.remove(h);
  }

  #run(h: Host, loop: Loop): void {
    loop.timer = null;
    if (loop.stopped) return;
    const spec = this.#spec;
    const ac = new AbortController();
    const timeout = this.#clock.setTimer(spec.timeoutMs, () => ac.abort());
    const port = spec.port > 0 ? spec.port : h.port;
    probe(spec, this.#protocol, { address: h.address, port }, ac.signal).then((ok) => {
      timeout.cancel();
      if (loop.stopped) return;
      this.#record(h, ok);
      loop.timer = this.#clock.setTimer(spec.intervalMs, () => this.#run(h, loop));
    });
  }

  #record(h: Host, ok: boolean): void {
    const spec = this.#spec;
    const first = !h.hcChecked;
    h.hcChecked = true;
    const was = h.hcOk;
    if (ok) {
      h.hcFailures = 0;
      h.hcSuccesses++;
      if (!h.hcOk && (first || h.hcSuccesses >= spec.healthyThreshold)) h.hcOk = true;
    } else {
      h.hcSuccesses = 0;
      h.hcFailures++;
      if (h.hcOk && h.hcFailures >= spec.unhealthyThreshold) h.hcOk = false;
    }
    if (h.hcOk !== was && upstreamChannel.hasSubscribers) {
      upstreamChannel.publish({
        type: h.hcOk ? 'health_passed' : 'health_failed', backend: this.#backendId, endpoint: h.key, protocol: this.#protocol,
      } satisfies UpstreamEvent);
    }
    if (h.updateHealthy()) this.#onChange();
  }
}
