/**
 * The discovery manager: runs one provider per source key from the DiscoveryPlan, keeps each
 * source's last known endpoints (a failing source keeps serving them), and reports status.
 * sync() is declarative: sources not running start, removed ones stop, and a source whose definition
 * (or whose cluster's connection) changed restarts while keeping its last endpoints until the new
 * watch answers. onChange fires, from a microtask, only when a source's list actually changed.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Clock, Random } from '../lib/index.ts';
import { systemClock, systemRandom } from '../lib/index.ts';
import type { ClusterConnection, DiscoveryPlan, DiscoverySource, Endpoint, SourceStatus } from '../snapshot/index.ts';
import { createConsulProvider } from './consul.ts';
import type { ConsulOptions } from './consul.ts';
import { createDnsProvider } from './dns.ts';
import type { DnsOptions } from './dns.ts';
import { createKubernetesProvider, loadKubeConfig } from './kubernetes.ts';
import type { KubernetesOptions } from './kubernetes.ts';
import { fingerprint } from './labels.ts';
import type { DiscoveryLog, Provider, ProviderContext } from './provider.ts';
import { silentLog } from './provider.ts';
import { createStaticProvider } from './static.ts';

export interface DiscoveryOptions {
  clusters: readonly ClusterConnection[];
  /** Called (from a microtask) after a source's endpoint list changed; not on failures that keep the old list. */
  onChange: (sourceKey: string) => void;
  /** Backoff and re-resolution timers use the clock; jitter uses random. */
  clock?: Clock;
  random?: Random;
  log?: DiscoveryLog;
  /**
   * Seam for tests and for running in-cluster: how a cluster's API is reached. Default:
   * `loadKubeConfig` (the connection's kubeconfig file and context, or the pod's service account).
   */
  kubeConfig?: (cluster: ClusterConnection) => KubeConfig;
  /** Provider tuning (tests shorten Consul's blocking wait, for example). */
  consul?: ConsulOptions;
  dns?: DnsOptions;
  kubernetes?: KubernetesOptions;
}

export interface DiscoveryManager {
  /** Starts sources not running (by key), stops removed ones, restarts changed ones and those of changed clusters. */
  sync(plan: DiscoveryPlan): void;
  /** Last known endpoints (kept across the source's failures); undefined before its first success. */
  endpoints(key: string): readonly Endpoint[] | undefined;
  status(): SourceStatus[];
  close(): Promise<void>;
}

interface Entry {
  source: DiscoverySource;
  /** The definition plus, for Kubernetes, the cluster connection: a change restarts the source. */
  identity: string;
  provider: Provider | undefined;
  state: SourceStatus['state'];
  endpoints: readonly Endpoint[] | undefined;
  fingerprint: string | undefined;
  lastUpdate: string | null;
  lastError: string | null;
  consecutiveFailures: number;
}

export function createDiscoveryManager(opts: DiscoveryOptions): DiscoveryManager {
  const ctx: ProviderContext = { clock: opts.clock ?? systemClock, random: opts.random ?? systemRandom, log: opts.log ?? silentLog };
  const kubeConfig = opts.kubeConfig ?? loadKubeConfig;
  const entries = new Map<string, Entry>();
  const stopping = new Set<Promise<void>>();
  let clusters = new Map(opts.clusters.map((c) => [c.name, c]));
  let closed = false;

  const identityOf = (source: DiscoverySource) =>
    JSON.stringify([source, source.type === 'kubernetes' ? clusters.get(source.cluster) ?? null : null]);

  function stopProvider(entry: Entry): void {
    const p = entry.provider;
    entry.provider = undefined;
    if (!p) return;
    const done = p.stop().catch((err) => ctx.log.warn({ source: entry.source.key, err }, 'discovery source did not stop cleanly'));
    stopping.add(done);
    void done.finally(() => stopping.delete(done));
  }

  function fail(entry: Entry, err: Error): void {
    entry.consecutiveFailures++;
    entry.lastError = err.message;
    if (entry.state !== 'failing') ctx.log.warn({ source: entry.source.key, type: entry.source.type, err: err.message }, 'discovery source failing; keeping its last known endpoints');
    entry.state = 'failing';
  }

  function createProvider(source: DiscoverySource): Provider {
    switch (source.type) {
      case 'static':
        return createStaticProvider(source);
      case 'consul':
        return createConsulProvider(source, ctx, opts.consul);
      case 'dns':
        return createDnsProvider(source, ctx, opts.dns);
      case 'kubernetes': {
        const cluster = clusters.get(source.cluster);
        if (!cluster) throw new Error(`unknown cluster "${source.cluster}"`);
        return createKubernetesProvider(source, cluster, kubeConfig, ctx, opts.kubernetes);
      }
    }
  }

  function start(entry: Entry): void {
    let provider: Provider;
    try {
      provider = createProvider(entry.source);
    } catch (err) {
      fail(entry, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    entry.provider = provider;
    const current = () => !closed && entry.provider === provider && entries.get(entry.source.key) === entry;
    provider.start({
      endpoints(list) {
        if (!current()) return;
        const fp = fingerprint(list);
        const changed = entry.endpoints === undefined || fp !== entry.fingerprint;
        if (entry.state === 'failing') ctx.log.info({ source: entry.source.key, failures: entry.consecutiveFailures }, 'discovery source recovered');
        entry.endpoints = list;
        entry.fingerprint = fp;
        entry.state = 'ok';
        entry.lastError = null;
        entry.consecutiveFailures = 0;
        entry.lastUpdate = new Date(ctx.clock.now()).toISOString();
        if (changed) {
          const key = entry.source.key;
          queueMicrotask(() => {
            if (closed || entries.get(key) !== entry) return;
            try {
              opts.onChange(key);
            } catch (err) {
              ctx.log.warn({ source: key, err }, 'discovery onChange handler threw');
            }
          });
        }
      },
      error(err) {
        if (current()) fail(entry, err);
      },
    });
  }

  return {
    sync(plan) {
      if (closed) return;
      clusters = new Map(plan.clusters.map((c) => [c.name, c]));
      const wanted = new Map(plan.sources.map((s) => [s.key, s]));
      for (const [key, entry] of entries) {
        if (!wanted.has(key)) {
          stopProvider(entry);
          entries.delete(key);
        }
      }
      for (const source of wanted.values()) {
        const identity = identityOf(source);
        const entry = entries.get(source.key);
        if (entry && entry.identity === identity) continue;
        if (entry) {
          stopProvider(entry);
          Object.assign(entry, { source, identity, state: 'starting', lastError: null, consecutiveFailures: 0 });
          start(entry);
          continue;
        }
        const fresh: Entry = {
          source, identity, provider: undefined, state: 'starting', endpoints: undefined, fingerprint: undefined,
          lastUpdate: null, lastError: null, consecutiveFailures: 0,
        };
        entries.set(source.key, fresh);
        start(fresh);
      }
    },
    endpoints(key) {
      return entries.get(key)?.endpoints;
    },
    status() {
      return [...entries.values()]
        .map((e) => ({
          key: e.source.key,
          type: e.source.type,
          state: e.state,
          endpoints: e.endpoints?.length ?? 0,
          lastUpdate: e.lastUpdate,
          lastError: e.lastError,
          consecutiveFailures: e.consecutiveFailures,
        }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async close() {
      closed = true;
      for (const entry of entries.values()) stopProvider(entry);
      entries.clear();
      await Promise.all([...stopping]);
    },
  };
}

