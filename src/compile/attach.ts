/**
 * Route attachment: resolves each parentRef to Gateway listeners (sectionName, port), applies the
 * listeners' allowedRoutes (namespaces From Same/All/Selector, kinds) and hostname intersection, and
 * settles HTTPRoute/GRPCRoute hostname collisions on a listener (the older route wins).
 */
import type { ConfigError } from '../lib/index.ts';
import type { ParentRef, RouteResource } from '../resources/index.ts';
import type { Condition } from '../snapshot/index.ts';
import { condition, resourceError } from './diagnostics.ts';
import type { GatewayState, ListenerState } from './gateways.ts';
import { hostsIntersect, intersectHostnames } from './hostnames.ts';
import { GATEWAY_GROUP, namespaceLabels, nsName, selectorMatches, type ResourceIndex } from './model.ts';

export interface Attachment {
  readonly listener: ListenerState;
  /** Effective hostnames of the route on this listener (`*` for any). */
  readonly hostnames: readonly string[];
}

export interface ParentOutcome {
  readonly refIndex: number;
  /** `Gateway/namespace/name[/sectionName][:port]`. */
  readonly label: string;
  readonly accepted: Condition;
  readonly attachments: readonly Attachment[];
}

export interface RouteAttachment {
  readonly route: RouteResource;
  readonly routeId: string;
  readonly parents: ParentOutcome[];
  readonly errors: ConfigError[];
}

export function routeId(route: RouteResource): string {
  return `${route.kind}/${route.metadata.namespace}/${route.metadata.name}`;
}

function parentLabel(route: RouteResource, ref: ParentRef): string {
  const kind = ref.kind ?? 'Gateway';
  const ns = ref.namespace ?? route.metadata.namespace;
  return `${kind}/${ns}/${ref.name}${ref.sectionName ? `/${ref.sectionName}` : ''}${ref.port !== undefined ? `:${ref.port}` : ''}`;
}

function namespaceAllowed(index: ResourceIndex, l: ListenerState, routeNs: string): boolean {
  const from = l.spec.allowedRoutes?.namespaces?.from ?? 'Same';
  if (from === 'All') return true;
  if (from === 'Same') return routeNs === l.gateway.metadata.namespace;
  if (from === 'Selector') {
    const selector = l.spec.allowedRoutes?.namespaces?.selector;
    return selector !== undefined && selectorMatches(selector, namespaceLabels(index, routeNs));
  }
  return false;
}

const notAccepted = (reason: string, message: string): Condition => condition('Accepted', false, reason, message);

function resolveParent(index: ResourceIndex, gateways: ReadonlyMap<string, GatewayState>, route: RouteResource, ref: ParentRef): { accepted: Condition; attachments: Attachment[] } {
  const group = ref.group ?? GATEWAY_GROUP;
  const kind = ref.kind ?? 'Gateway';
  if (group !== GATEWAY_GROUP || kind !== 'Gateway') {
    return { accepted: notAccepted('UnsupportedValue', `parentRef kind ${kind} (group "${group}") is not supported; routes attach to Gateways`), attachments: [] };
  }
  const id = nsName(ref.namespace ?? route.metadata.namespace, ref.name);
  const gw = gateways.get(id);
  if (!gw) return { accepted: notAccepted('NoMatchingParent', `Gateway ${id} not found`), attachments: [] };
  if (!gw.managed) return { accepted: notAccepted('NoMatchingParent', `Gateway ${id} is not managed by Ferry: ${gw.classMessage}`), attachments: [] };
  const candidates = gw.listeners.filter(
    (l) => (ref.sectionName === undefined || l.spec.name === ref.sectionName) && (ref.port === undefined || l.spec.port === ref.port),
  );
  if (candidates.length === 0) {
    const what = [ref.sectionName && `named ${ref.sectionName}`, ref.port !== undefined && `on port ${ref.port}`].filter(Boolean).join(' and ');
    return { accepted: notAccepted('NoMatchingParent', `Gateway ${id} has no listener ${what}`), attachments: [] };
  }
  const allowed = candidates.filter((l) => l.supportedKinds.includes(route.kind) && namespaceAllowed(index, l, route.metadata.namespace));
  if (allowed.length === 0) {
    const why = candidates.map((l) =>
      !l.supportedKinds.includes(route.kind)
        ? `${l.spec.name} does not accept kind ${route.kind}`
        : `${l.spec.name} does not accept routes from namespace ${route.metadata.namespace}`,
    );
    return { accepted: notAccepted('NotAllowedByListeners', `not allowed by the listeners of Gateway ${id}: ${why.join('; ')}`), attachments: [] };
  }
  const attachments: Attachment[] = [];
  for (const l of allowed) {
    const hostnames = intersectHostnames(l.spec.hostname, route.spec.hostnames ?? []);
    if (hostnames.length > 0) attachments.push({ listener: l, hostnames });
  }
  if (attachments.length === 0) {
    return {
      accepted: notAccepted('NoMatchingListenerHostname', `none of the route's hostnames (${(route.spec.hostnames ?? []).join(', ')}) matches a listener hostname of Gateway ${id}`),
      attachments: [],
    };
  }
  return { accepted: condition('Accepted', true, 'Accepted', `Route is accepted by Gateway ${id}`), attachments };
}

interface Claim {
  readonly kind: string;
  readonly routeId: string;
  readonly hostnames: readonly string[];
}

/** Attaches every route (oldest first) and counts attached routes on each listener. */
export function attachRoutes(index: ResourceIndex, states: readonly GatewayState[]): RouteAttachment[] {
  const gateways = new Map(states.map((s) => [nsName(s.resource.metadata.namespace, s.resource.metadata.name), s]));
  const claims = new Map<string, Claim[]>();
  const out: RouteAttachment[] = [];
  for (const route of index.routes) {
    const id = routeId(route);
    const errors: ConfigError[] = [];
    const parents: ParentOutcome[] = [];
    const refs = route.spec.parentRefs ?? [];
    if (refs.length === 0) errors.push(resourceError(route, 'spec', 'route has no parentRefs; it is not attached to any Gateway', 'warning'));
    refs.forEach((ref, i) => {
      const resolved = resolveParent(index, gateways, route, ref);
      let { accepted } = resolved;
      const kept: Attachment[] = [];
      const conflicts: string[] = [];
      for (const a of resolved.attachments) {
        const rival = (claims.get(a.listener.id) ?? []).find(
          (c) => c.kind !== route.kind && c.hostnames.some((h) => a.hostnames.some((mine) => hostsIntersect(h, mine))),
        );
        if (rival) conflicts.push(`${rival.routeId} (older) already serves these hostnames on listener ${a.listener.id}`);
        else kept.push(a);
      }
      if (resolved.attachments.length > 0 && kept.length === 0) {
        accepted = notAccepted('Conflicted', `HTTPRoute and GRPCRoute cannot share a hostname on a listener: ${conflicts.join('; ')}`);
      }
      for (const a of kept) {
        const list = claims.get(a.listener.id) ?? [];
        list.push({ kind: route.kind, routeId: id, hostnames: a.hostnames });
        claims.set(a.listener.id, list);
      }
      if (accepted.status === 'False') errors.push(resourceError(route, `spec.parentRefs[${i}]`, accepted.message));
      else for (const c of conflicts) errors.push(resourceError(route, `spec.parentRefs[${i}]`, `not attached to a listener: ${c}`, 'warning'));
      parents.push({ refIndex: i, label: parentLabel(route, ref), accepted, attachments: kept });
    });
    const listeners = new Set(parents.flatMap((p) => p.attachments.map((a) => a.listener)));
    for (const l of listeners) l.attachedRoutes++;
    out.push({ route, routeId: id, parents, errors });
  }
  return out;
}
