/**
 * Discovery sources: their identity keys and the plan builder. A key names what is watched, not who
 * asked for it, so two Backends naming the same Consul service, DNS name or remote Service share one
 * watch, and a source whose key is unchanged keeps running across reloads. Static sources (addresses
 * written in a Backend) are keyed by the Backend and the source's position in it; a `service:`
 * source (a Service of this configuration) by the Service and its port number.
 */
import type { BackendDiscovery, ClusterConnection, DiscoveryPlan, DiscoverySource } from '../snapshot/index.ts';
import { compareStrings } from './model.ts';
import { stableStringify } from './stable-json.ts';

export const sourceKey = {
  static: (backendId: string, index: number): string => `static|${backendId}|${index}`,
  service: (namespace: string, name: string, port: number): string => `service|${namespace}/${name}:${port}`,
  consul: (address: string, datacenter: string | undefined, service: string, tag: string | undefined): string =>
    `consul|${consulAddress(address)}|${datacenter ?? ''}|${service}|${tag ?? ''}`,
  dns: (recordType: string, name: string, port: number, servers: readonly string[]): string =>
    `dns|${recordType}|${dnsName(name)}|${port}|${servers.join(',')}`,
  kubernetes: (cluster: string, namespace: string, service: string, port: string | number): string =>
    `kubernetes|${cluster}|${namespace}|${service}|${port}`,
};

/** `scheme://host[:port]`, so `http://Consul:8500/` and `http://consul:8500` are one agent. */
export function consulAddress(address: string): string {
  try {
    return new URL(address).origin;
  } catch {
    return address;
  }
}

/** Lower-case, without the trailing root dot. */
export function dnsName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

interface Declared {
  readonly source: DiscoverySource;
  readonly owner: string;
}

/**
 * Collects sources (each key once) and per-Backend discovery. Callers add Backends oldest first, so
 * when two declarations of one key disagree (different labels, token or refresh bounds), the oldest
 * Backend's is used and the other is told.
 */
export class PlanBuilder {
  private readonly sources = new Map<string, Declared>();
  private readonly backends = new Map<string, BackendDiscovery>();

  /** Registers a source; returns a message when the key was already declared with other settings. */
  addSource(source: DiscoverySource, owner: string): string | undefined {
    const prev = this.sources.get(source.key);
    if (!prev) {
      this.sources.set(source.key, { source, owner });
      return undefined;
    }
    if (stableStringify(prev.source) === stableStringify(source)) return undefined;
    return `source ${source.key} is also declared by ${prev.owner} with different settings (labels, token or refresh bounds); one watch serves both, with the settings of ${prev.owner}, which is older`;
  }

  setBackend(id: string, discovery: BackendDiscovery): void {
    this.backends.set(id, discovery);
  }

  build(clusters: readonly ClusterConnection[]): DiscoveryPlan {
    const used = new Set([...this.backends.values()].flatMap((b) => b.sources));
    const sources = [...this.sources.values()]
      .map((d) => d.source)
      .filter((s) => used.has(s.key))
      .sort((a, b) => compareStrings(a.key, b.key));
    const backends: Record<string, BackendDiscovery> = {};
    for (const id of [...this.backends.keys()].sort(compareStrings)) backends[id] = this.backends.get(id) as BackendDiscovery;
    return { clusters, sources, backends };
  }
}
