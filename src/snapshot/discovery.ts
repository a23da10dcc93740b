/**
 * The discovery plan: what compile tells the control plane to watch so Backends get endpoints.
 * Control-plane only (the proxy never sees it): sources are started and stopped by key, their
 * endpoints merged per Backend (union, deduplicated by address:port, then filtered by the Backend's
 * subset labels) and handed to the proxy as EndpointSets.
 */
import type { Endpoint } from './types.ts';

/** A Kubernetes cluster Ferry can watch, from the Mesh resource's `spec.clusters`. */
export interface ClusterConnection {
  readonly name: string;
  /** Path to a kubeconfig file; absent with `inCluster` for the pod's service account. */
  readonly kubeconfig?: string;
  /** Context within the kubeconfig (default: its current context). */
  readonly context?: string;
  readonly inCluster?: boolean;
  /** Labels every endpoint from this cluster gets (e.g. its zone), besides `ferry.dev/cluster`. */
  readonly labels: Readonly<Record<string, string>>;
}

export type DiscoverySource =
  /** Addresses given in the Backend itself, or a config Service's EndpointSlices resolved by compile. */
  | { readonly type: 'static'; readonly key: string; readonly endpoints: readonly Endpoint[] }
  /** Consul catalog: `/v1/health/service/<service>?passing` with blocking queries. */
  | {
      readonly type: 'consul';
      readonly key: string;
      /** `http://host:port` of a Consul agent or server. */
      readonly address: string;
      readonly service: string;
      readonly datacenter?: string;
      readonly tag?: string;
      /** ACL token, read from a Secret by compile. */
      readonly token?: string;
      /** Labels added to every endpoint (e.g. `ferry.dev/platform: vm`). */
      readonly labels: Readonly<Record<string, string>>;
    }
  /** DNS: A/AAAA (with a port) or SRV (ports from the records), re-resolved on TTL. */
  | {
      readonly type: 'dns';
      readonly key: string;
      readonly name: string;
      readonly recordType: 'A' | 'AAAA' | 'SRV';
      /** Port for A/AAAA answers; ignored for SRV. */
      readonly port: number;
      /** `host:port` resolvers to ask instead of the system's. */
      readonly servers: readonly string[];
      /** TTLs are clamped into [min, max] for re-resolution (defaults 1000 / 300000). */
      readonly minRefreshMs: number;
      readonly maxRefreshMs: number;
      readonly labels: Readonly<Record<string, string>>;
    }
  /** A Service in a named Kubernetes cluster: its EndpointSlices, watched. */
  | {
      readonly type: 'kubernetes';
      readonly key: string;
      readonly cluster: string;
      readonly namespace: string;
      readonly service: string;
      /** Service port name or number; the matching EndpointSlice port is used. */
      readonly port: string | number;
      readonly labels: Readonly<Record<string, string>>;
    };

export interface DiscoveryPlan {
  readonly clusters: readonly ClusterConnection[];
  /** Every source once, by key (two Backends naming the same Consul service share one watch). */
  readonly sources: readonly DiscoverySource[];
  /** Backend id (`Backend/ns/name`) → the sources feeding it and the labels its endpoints must have. */
  readonly backends: Readonly<Record<string, BackendDiscovery>>;
}

export interface BackendDiscovery {
  readonly sources: readonly string[];
  /** Subset / default-subset selector: only endpoints carrying all these labels. Empty = all. */
  readonly matchLabels: Readonly<Record<string, string>>;
}

/** How a source is doing, for /status and metrics. */
export interface SourceStatus {
  readonly key: string;
  readonly type: DiscoverySource['type'];
  /** `starting` until the first answer; `failing` keeps serving the last known endpoints. */
  readonly state: 'starting' | 'ok' | 'failing';
  readonly endpoints: number;
  readonly lastUpdate: string | null;
  readonly lastError: string | null;
  readonly consecutiveFailures: number;
}
