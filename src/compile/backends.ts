/**
 * Ferry Backends → BackendStates (what routes resolve `kind: Backend` refs to) and the discovery
 * plan's sources and per-Backend selectors.
 *
 * A Backend with `sources` feeds on all of them (union); its `defaultSubset` narrows what routes to
 * it get. A subset (`subsetOf`) takes its parent's sources, ignores the parent's defaultSubset and
 * selects with its own labels. References a source cannot resolve (a Service or Secret missing from
 * the configuration, a cluster the Mesh does not declare) drop that source and are reported; the
 * Backend keeps its other sources. A subset whose parent is missing or itself a subset is rejected.
 */
import type { ConfigError } from '../lib/index.ts';
import { DNS_DEFAULT_MAX_REFRESH_MS, DNS_DEFAULT_MIN_REFRESH_MS, secretValue, type BackendResource, type BackendSource, type EndpointSliceResource } from '../resources/index.ts';
import { parseDuration } from '../lib/index.ts';
import { LABEL_PLATFORM, type DiscoverySource, type UpstreamProtocol } from '../snapshot/index.ts';
import { resourceError, type RefProblem } from './diagnostics.ts';
import { dnsName, consulAddress, PlanBuilder, sourceKey } from './discovery-sources.ts';
import { serviceEndpoints, slicesByService } from './endpoints.ts';
import type { MeshState } from './mesh.ts';
import { compareAge, nsName, type ResourceIndex } from './model.ts';

export interface BackendState {
  readonly resource: BackendResource;
  /** `Backend/namespace/name`. */
  readonly id: string;
  /** False for a subset that cannot be resolved: routes to it are invalid backendRefs. */
  readonly valid: boolean;
  readonly invalidReason?: string;
  readonly protocol: UpstreamProtocol;
  /** The parent of a subset. */
  readonly parent?: BackendState;
  /** Sources that could not be resolved (ResolvedRefs). */
  readonly problems: readonly RefProblem[];
}

export interface BackendsResult {
  /** By `namespace/name`. */
  readonly states: ReadonlyMap<string, BackendState>;
  readonly plan: PlanBuilder;
  readonly errors: readonly ConfigError[];
}

export const backendId = (namespace: string, name: string): string => `Backend/${namespace}/${name}`;

const PLATFORM_KUBERNETES = { [LABEL_PLATFORM]: 'kubernetes' };

interface Context {
  readonly index: ResourceIndex;
  readonly mesh: MeshState;
  readonly slices: ReadonlyMap<string, readonly EndpointSliceResource[]>;
}

type Resolved = { source: DiscoverySource; problem?: undefined } | { source?: undefined; problem: RefProblem };

function ms(text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : parseDuration(text);
}

function resolveSource(ctx: Context, b: BackendResource, src: BackendSource, i: number): Resolved {
  const ns = b.metadata.namespace;
  const field = `spec.sources[${i}]`;
  if (src.static) {
    const labels = src.static.labels ?? {};
    const endpoints = src.static.endpoints
      .map((e) => ({ address: e.address, port: e.port, ready: true, ...(e.weight !== undefined ? { weight: e.weight } : {}), labels: { ...labels, ...e.labels } }))
      .sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : x.port - y.port));
    return { source: { type: 'static', key: sourceKey.static(backendId(ns, b.metadata.name), i), endpoints } };
  }
  if (src.service) {
    const s = src.service;
    const svc = ctx.index.services.get(nsName(ns, s.name));
    const port = svc?.spec.ports?.find((p) => (typeof s.port === 'number' ? p.port === s.port : p.name === s.port));
    if (!svc) return { problem: { reason: 'BackendNotFound', field: `${field}.service.name`, message: `Service ${nsName(ns, s.name)} not found` } };
    if (!port) return { problem: { reason: 'BackendNotFound', field: `${field}.service.port`, message: `Service ${nsName(ns, s.name)} has no port ${s.port}` } };
    const extra = { ...PLATFORM_KUBERNETES, ...s.labels };
    const endpoints = serviceEndpoints(port, ctx.slices.get(nsName(ns, s.name)) ?? []).map((e) => ({ ...e, labels: { ...extra, ...e.labels } }));
    return { source: { type: 'static', key: sourceKey.service(ns, s.name, port.port), endpoints } };
  }
  if (src.consul) {
    const c = src.consul;
    let token: string | undefined;
    if (c.tokenSecretRef) {
      const ref = c.tokenSecretRef;
      const secret = ctx.index.secrets.get(nsName(ns, ref.name));
      const at = `${field}.consul.tokenSecretRef`;
      if (!secret) return { problem: { reason: 'SecretNotFound', field: `${at}.name`, message: `Secret ${nsName(ns, ref.name)} not found` } };
      token = secretValue(secret, ref.key);
      if (token === undefined) return { problem: { reason: 'SecretNotFound', field: `${at}.key`, message: `Secret ${nsName(ns, ref.name)} has no key "${ref.key}" in data or stringData` } };
    }
    return {
      source: {
        type: 'consul',
        key: sourceKey.consul(c.address, c.datacenter, c.service, c.tag),
        address: consulAddress(c.address),
        service: c.service,
        ...(c.datacenter !== undefined ? { datacenter: c.datacenter } : {}),
        ...(c.tag !== undefined ? { tag: c.tag } : {}),
        ...(token !== undefined ? { token } : {}),
        labels: c.labels ?? {},
      },
    };
  }
  if (src.dns) {
    const d = src.dns;
    const recordType = d.type ?? 'A';
    const port = recordType === 'SRV' ? 0 : (d.port ?? 0);
    const servers = d.servers ?? [];
    return {
      source: {
        type: 'dns',
        key: sourceKey.dns(recordType, d.name, port, servers),
        name: dnsName(d.name),
        recordType,
        port,
        servers,
        minRefreshMs: ms(d.minRefresh, DNS_DEFAULT_MIN_REFRESH_MS),
        maxRefreshMs: ms(d.maxRefresh, DNS_DEFAULT_MAX_REFRESH_MS),
        labels: d.labels ?? {},
      },
    };
  }
  const k = src.kubernetes;
  if (!k) throw new Error('unreachable: a source without a type passed validation');
  if (!ctx.mesh.clusters.some((c) => c.name === k.cluster)) {
    const known = ctx.mesh.clusters.map((c) => c.name);
    const hint = ctx.mesh.mesh ? (known.length > 0 ? ` (declared: ${known.join(', ')})` : ' (it declares none)') : ' (there is no Mesh resource)';
    return { problem: { reason: 'ClusterNotFound', field: `${field}.kubernetes.cluster`, message: `cluster ${k.cluster} is not declared in the Mesh's spec.clusters${hint}` } };
  }
  const namespace = k.namespace ?? ns;
  return {
    source: {
      type: 'kubernetes',
      key: sourceKey.kubernetes(k.cluster, namespace, k.service, k.port),
      cluster: k.cluster,
      namespace,
      service: k.service,
      port: k.port,
      labels: { ...PLATFORM_KUBERNETES, ...k.labels },
    },
  };
}

export function compileBackends(index: ResourceIndex, mesh: MeshState): BackendsResult {
  const ctx: Context = { index, mesh, slices: slicesByService(index.slices) };
  const plan = new PlanBuilder();
  const errors: ConfigError[] = [];
  const states = new Map<string, BackendState>();
  const ordered = [...index.backends.values()].sort(compareAge);
  const sourcesOf = new Map<string, string[]>();

  for (const b of ordered) {
    if (!b.spec.sources) continue;
    const id = backendId(b.metadata.namespace, b.metadata.name);
    const keys: string[] = [];
    const problems: RefProblem[] = [];
    b.spec.sources.forEach((src, i) => {
      const r = resolveSource(ctx, b, src, i);
      if (r.problem) {
        problems.push(r.problem);
        errors.push(resourceError(b, r.problem.field, `${r.problem.message}; this source is skipped`));
        return;
      }
      const conflict = plan.addSource(r.source, id);
      if (conflict) errors.push(resourceError(b, `spec.sources[${i}]`, conflict, 'warning'));
      if (!keys.includes(r.source.key)) keys.push(r.source.key);
    });
    sourcesOf.set(id, keys);
    plan.setBackend(id, { sources: keys, matchLabels: b.spec.defaultSubset?.matchLabels ?? {} });
    states.set(nsName(b.metadata.namespace, b.metadata.name), { resource: b, id, valid: true, protocol: b.spec.protocol ?? 'http1', problems });
  }

  for (const b of ordered) {
    const sub = b.spec.subsetOf;
    if (!sub) continue;
    const ns = b.metadata.namespace;
    const id = backendId(ns, b.metadata.name);
    const parentResource = index.backends.get(nsName(ns, sub.name));
    const parent = states.get(nsName(ns, sub.name));
    const reason =
      !parentResource ? `parent Backend ${nsName(ns, sub.name)} not found (a subset's parent must be in the same namespace)` :
      !parent ? `parent Backend ${nsName(ns, sub.name)} is itself a subset; subsets cannot be nested` :
      undefined;
    if (reason || !parent) {
      const message = reason ?? 'parent not usable';
      errors.push(resourceError(b, 'spec.subsetOf.name', message));
      states.set(nsName(ns, b.metadata.name), { resource: b, id, valid: false, invalidReason: message, protocol: b.spec.protocol ?? 'http1', problems: [] });
      continue;
    }
    plan.setBackend(id, { sources: sourcesOf.get(parent.id) ?? [], matchLabels: sub.matchLabels ?? {} });
    states.set(nsName(ns, b.metadata.name), { resource: b, id, valid: true, protocol: b.spec.protocol ?? parent.protocol, parent, problems: [] });
  }
  return { states, plan, errors };
}
