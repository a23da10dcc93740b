/**
 * compileEndpoints(): EndpointSlices → the live endpoint list of every backend in a snapshot, kept
 * apart from routes so an endpoint change never recompiles them.
 *
 * A slice belongs to a Service through its `kubernetes.io/service-name` label (same namespace). The
 * slice port whose name equals the Service port's name gives the endpoint port; when the slice has
 * no usable port, the Service port's numeric targetPort (else the Service port) is used. Labels are
 * the slice's labels, plus `topology.kubernetes.io/zone` / `kubernetes.io/hostname` from the
 * endpoint's zone / nodeName, plus the slice's `ferry.dev/*` annotations.
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

export function compileEndpoints(resources: readonly Resource[], snapshot: Snapshot): EndpointSets {
  const services = new Map<string, ServiceResource>();
  const slicesByService = new Map<string, EndpointSliceResource[]>();
  for (const r of resources) {
    if (r.kind === 'Service') {
      const key = nsName(r.metadata.namespace, r.metadata.name);
      if (!services.has(key)) services.set(key, r);
    } else if (r.kind === 'EndpointSlice') {
      const svc = r.metadata.labels[SERVICE_NAME_LABEL];
      if (svc === undefined) continue;
      const key = nsName(r.metadata.namespace, svc);
      const list = slicesByService.get(key) ?? [];
      list.push(r);
      slicesByService.set(key, list);
    }
  }
  const out = new Map<string, readonly Endpoint[]>();
  for (const id of Object.keys(snapshot.backends).sort(compareStrings)) {
    const backend = snapshot.backends[id];
    const key = nsName(backend.namespace, backend.name);
    const svcPort = services.get(key)?.spec.ports?.find((p) => p.port === backend.port);
    const found = new Map<string, Endpoint>();
    if (svcPort) {
      const slices = [...(slicesByService.get(key) ?? [])].sort((a, b) => compareStrings(a.metadata.name, b.metadata.name));
      for (const slice of slices) {
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
    }
    const list = [...found.values()].sort((a, b) => compareStrings(a.address, b.address) || a.port - b.port);
    out.set(id, list);
  }
  return out;
}
