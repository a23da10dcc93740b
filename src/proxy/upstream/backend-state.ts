/**
 * Everything Ferry keeps per backend id, across snapshot swaps and endpoint updates: its endpoints
 * (Hosts, keyed by `address:port`, with their health and outlier state), the priority levels and
 * their balancers, the circuit breaker counters, and the health checker. `update()` applies a new
 * spec and/or endpoint list in place; `refresh()` recomputes levels after a health change. Per
 * request, `pick()` reads precomputed levels: with one level (no locality policy) it is one balancer
 * call.
 *
 * Health-check start state: endpoints of a backend seen for the first time (its first non-empty
 * endpoint list) start healthy, so a restart or a new backend never begins with an outage while
 * the first probes run; endpoints added later start unhealthy until their first probe passes, so a
 * starting instance gets no traffic before it answers. Turning health checks on for an existing
 * backend keeps its endpoints healthy until probes say otherwise.
 */
import type { BackendPolicy, BackendSpec, Endpoint, UpstreamProtocol } from '../../snapshot/index.ts';
import type { Clock, Random } from '../../lib/index.ts';
import { NO_HASH, type Balancer, type LevelView } from './balancer.ts';
import { createBalancer, isHashPolicy } from './lb/index.ts';
import { mix32, SEED_LEVEL, unit } from './lb/hash.ts';
import { HashKey, type HashRequest } from './hash-key.ts';
import { Host, endpointWeight } from './host.ts';
import { HealthChecker } from './health-check.ts';
import { OutlierDetector, publishUneject, release } from './outlier.ts';
import { Breaker } from './breaker.ts';
import { backendRetryPolicy, type RetryPolicy } from './retry-policy.ts';
import { priorityLoad } from './priority.ts';
import type { UpstreamPool } from './pool.ts';

export interface Level extends LevelView<Host> {
  readonly balancer: Balancer;
}

/** Gives the pool for an endpoint of this backend (shared per protocol, address and connect timeout). */
export type PoolFor = (spec: BackendSpec, ep: Endpoint) => UpstreamPool;

let versionCounter = 0;

export class BackendState {
  readonly id: string;
  spec: BackendSpec;
  protocol: UpstreamProtocol;
  /** Every ready endpoint (source readiness), whatever its health. Replaced, never mutated. */
  ready: readonly Host[] = [];
  /** The hash key of a RingHash/Maglev policy, or null. */
  hashKey: HashKey | null = null;
  /** Backend-level retries (TrafficPolicy), used when the rule has none. */
  retry: RetryPolicy | null = null;
  readonly breaker: Breaker;
  outlier: OutlierDetector | null = null;
  /** Mirror requests in flight towards this backend. */
  mirrorInFlight = 0;

  readonly #clock: Clock;
  readonly #random: Random;
  readonly #hosts = new Map<string, Host>();
  #health: HealthChecker | null = null;
  #seenEndpoints = false;
  #lbJson = '';
  #balancers: Balancer[] = [];
  /** Ready hosts per priority level, and each level's membership version. */
  #members: Host[][] = [];
  #versions: number[] = [];
  #memberSigs: string[] = [];
  /** Levels with traffic: when exactly one, `#only`; otherwise `#loaded` with cumulative percents. */
  #only: Level | null = null;
  #loaded: Level[] = [];
  #cumulative: number[] = [];

  constructor(id: string, spec: BackendSpec, clock: Clock, random: Random) {
    this.id = id;
    this.spec = spec;
    this.protocol = spec.protocol;
    this.#clock = clock;
    this.#random = random;
    this.breaker = new Breaker(spec.policy.circuitBreaker, spec.protocol === 'http1');
  }

  get policy(): BackendPolicy {
    return this.spec.policy;
  }

  /** Picks an endpoint for a request (`x` null: no hash key, e.g. a mirror copy), avoiding `avoid` if possible. */
  // HOT PATH
  pick(x: HashRequest | null, avoid: Host | null): Host | undefined {
    const hk = this.hashKey;
    const hash = hk !== null && x !== null ? hk.hash(x) : NO_HASH;
    let level = this.#only;
    if (level === null) {
      const loaded = this.#loaded;
      if (loaded.length === 0) return undefined;
      const r = 100 * (hash === NO_HASH ? this.#random() : unit(mix32(hash, SEED_LEVEL)));
      const cum = this.#cumulative;
      let i = 0;
      while (i < cum.length - 1 && r >= cum[i]) i++;
      level = loaded[i];
    }
    return level.balancer.pick(level, hash, avoid);
  }

  /** New spec and/or endpoints. `poolFor` gives the shared pool of an endpoint. */
  update(spec: BackendSpec, endpoints: readonly Endpoint[], poolFor: PoolFor): void {
    const policy = spec.policy;
    this.spec = spec;
    this.protocol = spec.protocol;
    this.breaker.spec = policy.circuitBreaker;
    this.breaker.limitConnections = spec.protocol === 'http1';
    this.retry = backendRetryPolicy(policy.retry);
    const lbJson = JSON.stringify(policy.loadBalancer);
    if (lbJson !== this.#lbJson) {
      this.#lbJson = lbJson;
      this.#balancers = [];
      this.hashKey = isHashPolicy(policy.loadBalancer) ? new HashKey(policy.loadBalancer.hashOn!, this.#random) : null;
    }
    this.#updateOutlier(policy);
    this.#updateHealth(policy);

    const initial = !this.#seenEndpoints;
    const seen = new Set<string>();
    const ready: Host[] = [];
    for (const ep of endpoints) {
      const key = `${ep.address}:${ep.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      let h = this.#hosts.get(key);
      const pool = poolFor(spec, ep);
      if (h === undefined) {
        h = new Host(ep.address, ep.port, pool);
        if (this.#health !== null && !initial) { h.hcOk = false; h.healthy = false; }
        this.#hosts.set(key, h);
        this.#health?.add(h);
      }
      h.pool = pool;
      h.weight = endpointWeight(ep.weight);
      h.ready = ep.ready !== false;
      h.labels = ep.labels ?? {};
      if (h.ready) ready.push(h);
    }
    for (const [key, h] of this.#hosts) {
      if (seen.has(key)) continue;
      this.#hosts.delete(key);
      this.#health?.remove(h);
      h.ejectTimer?.cancel();
    }
    if (endpoints.length > 0) this.#seenEndpoints = true;
    this.ready = ready;
    this.#assignLevels();
    this.refresh();
  }

  #updateOutlier(policy: BackendPolicy): void {
    const od = policy.outlierDetection;
    if (od === null) {
      if (this.outlier !== null) {
        this.outlier = null;
        const now = this.#clock.now();
        for (const h of this.#hosts.values()) if (h.ejectedUntil !== 0) { release(h, now); h.updateHealthy(); publishUneject(this, h); }
      }
      return;
    }
    if (this.outlier === null) this.outlier = new OutlierDetector(od, this.#clock, this);
    else this.outlier.spec = od;
  }

  #updateHealth(policy: BackendPolicy): void {
    const hc = policy.healthCheck;
    if (hc === null) {
      if (this.#health !== null) {
        this.#health.stop();
        this.#health = null;
        for (const h of this.#hosts.values()) { h.hcOk = true; h.hcChecked = false; h.hcSuccesses = 0; h.hcFailures = 0; h.updateHealthy(); }
      }
      return;
    }
    if (this.#health === null) {
      this.#health = new HealthChecker(hc, this.spec.protocol, this.#clock, this.#random, () => this.refresh(), this.id);
      for (const h of this.#hosts.values()) this.#health.add(h);
    } else {
      this.#health.update(hc, this.spec.protocol);
    }
  }

  /** Splits ready hosts into priority levels; a level's version changes only when its members or weights do. */
  #assignLevels(): void {
    const loc = this.policy.locality;
    const members: Host[][] = [];
    if (loc === null || loc.priorities.length === 0) {
      members.push([...this.ready]);
    } else {
      for (let i = 0; i <= loc.priorities.length; i++) members.push([]);
      for (const h of this.ready) {
        let level = loc.priorities.length;
        for (let i = 0; i < loc.priorities.length; i++) {
          const sel = loc.priorities[i];
          let match = true;
          for (const k in sel) if (h.labels[k] !== sel[k]) { match = false; break; }
          if (match) { level = i; break; }
        }
        members[level].push(h);
      }
    }
    const sigs = members.map((m) => m.map((h) => `${h.key}*${h.weight}`).join(','));
    const versions: number[] = [];
    for (let i = 0; i < members.length; i++) {
      versions.push(sigs[i] === this.#memberSigs[i] && this.#members.length === members.length ? this.#versions[i] : ++versionCounter);
    }
    this.#members = members;
    this.#memberSigs = sigs;
    this.#versions = versions;
  }

  /** Recomputes usable endpoints, panic and traffic per level from current health. Cheap: O(endpoints). */
  refresh(): void {
    const policy = this.policy;
    const members = this.#members;
    const health = members.map((m) => {
      let healthy = 0;
      for (const h of m) if (h.healthy) healthy++;
      return { total: m.length, healthy };
    });
    const { load, panic } = priorityLoad(health, policy.panicThresholdPercent, policy.locality?.minHealthyPercent ?? 70);
    const loaded: Level[] = [];
    const cumulative: number[] = [];
    let sum = 0;
    for (let i = 0; i < members.length; i++) {
      if (!(load[i] > 0)) continue;
      const hosts = members[i];
      const usable = panic[i] || health[i].healthy === hosts.length ? hosts : hosts.filter((h) => h.healthy);
      const balancer = this.#balancers[i] ??= createBalancer(policy.loadBalancer, this.#random);
      loaded.push({ hosts, usable, panic: panic[i], version: this.#versions[i], balancer });
      sum += load[i];
      cumulative.push(sum);
    }
    this.#loaded = loaded;
    this.#cumulative = cumulative;
    this.#only = loaded.length === 1 ? loaded[0] : null;
  }

  /** Current levels (for tests and the admin view). */
  levels(): readonly Level[] {
    return this.#loaded;
  }

  host(key: string): Host | undefined {
    return this.#hosts.get(key);
  }

  /** Stops timers (health probes, ejections). */
  close(): void {
    this.#health?.stop();
    this.#health = null;
    for (const h of this.#hosts.values()) h.ejectTimer?.cancel();
  }
}
