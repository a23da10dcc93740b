/**
 * The data plane's front door: apply() compiles a snapshot into per-socket runtimes, binds new sockets,
 * re-points kept ones and drains removed ones; setEndpoints() edits upstream state in place;
 * drain() shuts everything down gracefully. Upstream state (pools, balancers, endpoint health and
 * ejections, breaker counters) outlives snapshots.
 */
import { systemClock, systemRandom } from '../lib/index.ts';
import type { EndpointSets, Snapshot } from '../snapshot/index.ts';
import { compileSnapshot } from './config/socket-runtime.ts';
import type { ProxyCore } from './http/context.ts';
import { SocketServer } from './listen/socket-server.ts';
import { UpstreamRegistry } from './upstream/registry.ts';
import { Mirrorer } from './upstream/mirror.ts';
import { resolveLimits, type ApplyResult, type BoundSocket, type Proxy, type ProxyOptions } from './types.ts';

/** How long a socket removed by a new snapshot may finish its in-flight requests. */
const REMOVED_SOCKET_GRACE_MS = 10_000;

export function createProxy(options: ProxyOptions = {}): Proxy {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const limits = resolveLimits(options.limits);
  const registry = new UpstreamRegistry(clock, random);
  const core: ProxyCore = {
    registry,
    clock,
    random,
    policy: { encodedSlashes: options.encodedSlashes ?? 'reject', mergeSlashes: options.mergeSlashes ?? true },
    mirror: new Mirrorer(registry, clock),
  };
  let servers = new Map<string, SocketServer>();
  let current: Snapshot | null = null;
  let applying: Promise<unknown> = Promise.resolve();
  let drained = false;

  const sockets = (): BoundSocket[] => [...servers.values()].map((s) => ({ ...s.bound }));

  async function applyNow(snapshot: Snapshot): Promise<ApplyResult> {
    if (drained) return { bound: [], errors: [{ socket: '*', message: 'proxy is drained' }] };
    const compiled = compileSnapshot(snapshot, { random });
    const errors = [...compiled.errors];
    // Old and new backends both exist while sockets are being bound, so no request misses its backend.
    registry.setBackends({ ...(current?.backends ?? {}), ...snapshot.backends });
    const next = new Map<string, SocketServer>();
    const closing: Promise<void>[] = [];
    for (const [key, runtime] of compiled.sockets) {
      const existing = servers.get(key);
      if (existing !== undefined && existing.protocol === runtime.spec.protocol) {
        try {
          existing.update(runtime);
        } catch (err) {
          errors.push({ socket: key, message: (err as Error).message });
        }
        next.set(key, existing);
        continue;
      }
      if (existing !== undefined) {
        servers.delete(key);
        await existing.drain(0);
      }
      try {
        next.set(key, await SocketServer.open(runtime, core, limits));
      } catch (err) {
        errors.push({ socket: key, message: (err as Error).message });
      }
    }
    for (const [key, s] of servers) if (!next.has(key)) closing.push(s.drain(REMOVED_SOCKET_GRACE_MS));
    servers = next;
    current = snapshot;
    registry.setBackends(snapshot.backends);
    void Promise.all(closing);
    return { bound: sockets(), errors };
  }

  return {
    apply(snapshot) {
      // Applies run one at a time, in call order.
      const run = applying.then(() => applyNow(snapshot));
      applying = run.catch(() => {});
      return run;
    },
    setEndpoints(endpoints: EndpointSets) {
      registry.setEndpoints(endpoints);
    },
    sockets,
    async drain(graceMs) {
      drained = true;
      await applying;
      const all = [...servers.values()];
      servers = new Map();
      await Promise.all(all.map((s) => s.drain(graceMs)));
      await registry.destroy();
    },
  };
}
