/**
 * compileEndpoints(): EndpointSlices → the live endpoint list of every backend in a snapshot, kept
 * apart from routes so an endpoint change never recompiles them.
 *
 * A slice belongs to a Service through its `kubernetes.io/service-name` label (same namespace). The
 * slice port whose name equals the Service port's name gives the endpoint port; when the slice has
 * no usable port, the Service port's numeric targetPort (else the Service port) is used. Labels are
 * the slice's labels, plus `topology.kubernetes.io/zone` / `kubernetes.io/hostname` from the
 * endpoint's zone / nodeName, plus the slice's `ferry.dev/*` annotations. The same logic resolves a
 * Backend's `service:` source into a static endpoint list.
 */
import type { EndpointSliceResource, Resource, ServicePort, ServiceResource } from '../resources/index.ts';
import type { Endpoint, EndpointSets, Snapshot } from '../snapshot/index.ts';
import { compareStrings, nsName } from './model.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const ZONE_LABEL = 'topology.kubernetes.io/zone';
const NODE_LABEL = 'kubernetes.io/hostname';

function endpointPort(slice: EndpointSliceResource, svcPort: ServicePort): number | undefined {
  const fallback = typeof svcPort.targetPort === 'number' ? svcPort.targetPort : svcPort.port;
  const ports = slice.ports ?? [];
  if (ports.length === 0) return fallback;
  const match = ports.find((p) => (p.name ?? '') === (svcPort.name ?? ''));
  if (!match) return undefined;
  return match.port ?? fallback;
}

function sliceLabels(slice: EndpointSliceResource): Record<string, string> {
  const labels: Record<string, string> = { ...slice.metadata.labels };
  for (const [k, v] of Object.entries(slice.metadata.annotations)) if (k.startsWith('ferry.dev/')) labels[k] = v;
  return labels;
}

/** EndpointSlices grouped by the Service they belong to (`namespace/name`). */
export function slicesByService(resources: Iterable<Resource>): Map<string, EndpointSliceResource[]> {
  const out = new Map<string, EndpointSliceResource[]>();
  for (const r of resources) {
    if (r.kind !== 'EndpointSlice') continue;
    const svc = r.metadata.labels[SERVICE_NAME_LABEL];
    if (svc === undefined) continue;
    const key = nsName(r.metadata.namespace, svc);
    const list = out.get(key) ?? [];
    list.push(r);
    out.set(key, list);
  }
  return out;
}

/**
 * The endpoints of one Service port from its slices: deduplicated by address and port (a ready copy
 * wins), sorted by address then port.
 */
export function serviceEndpoints(svcPort: ServicePort, slices: readonly EndpointSliceResource[]): Endpoint[] {
  const found = new Map<string, Endpoint>();
  const sorted = [...slices].sort((a, b) => compareStrings(a.metadata.name, b.metadata.name));
  for (const slice of sorted) {
    const port = endpointPort(slice, svcPort);
    if (port === undefined) continue;
    const base = sliceLabels(slice);
    for (const ep of slice.endpoints) {
      const labels = {
        ...base,
        ...(ep.zone !== undefined ? { [ZONE_LABEL]: ep.zone } : {}),
        ...(ep.nodeName !== undefined ? { [NODE_LABEL]: ep.nodeName } : {}),
      };
      const ready = ep.conditions?.ready !== false;
      for (const address of ep.addresses) {
        const k = `${address}|${port}`;
        const prev = found.get(k);
        if (prev && (prev.ready || !ready)) continue;
        found.set(k, { address, port, ready, labels });
      }
    }
  }
  return [...found.values()].sort((a, b) => compareStrings(a.address, b.address) || a.port - b.port);
}

/**
 * Endpoint sets of the snapshot's Service backends. Backends of kind Backend are not included: their
 * endpoints come from the discovery plan's sources.
 */
export function compileEndpoints(resources: readonly Resource[], snapshot: Snapshot): EndpointSets {
  const services = new Map<string, ServiceResource>();
  for (const r of resources) {
    if (r.kind !== 'Service') continue;
    const key = nsName(r.metadata.namespace, r.metadata.name);
    if (!services.has(key)) services.set(key, r);
  }
  const slices = slicesByService(resources);
  const out = new Map<string, readonly Endpoint[]>();
  for (const id of Object.keys(snapshot.backends).sort(compareStrings)) {
    const backend = snapshot.backends[id];
    if (backend.kind !== 'Service') continue;
    const key = nsName(backend.namespace, backend.name);
    const svcPort = services.get(key)?.spec.ports?.find((p) => p.port === backend.port);
    out.set(id, svcPort ? serviceEndpoints(svcPort, slices.get(key) ?? []) : []);
  }
  return out;
}
