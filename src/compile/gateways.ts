/**
 * Gateways and listeners: which Gateways Ferry manages (GatewayClass), which listeners it can serve
 * (protocol, route kinds, certificates), where each binds (`binds` overrides), and conflicts between
 * listeners that end up on the same socket (protocol, then hostname; the older Gateway wins).
 */
import type { ConfigError } from '../lib/index.ts';
import { FERRY_CONTROLLER_NAME, type GatewayResource, type Listener } from '../resources/index.ts';
import type { Condition, ListenerProtocol, TlsSpec } from '../snapshot/index.ts';
import { condition, resourceError } from './diagnostics.ts';
import { GATEWAY_GROUP, type ResourceIndex } from './model.ts';
import { resolveListenerTls } from './tls.ts';

/**
 * A Gateway whose gatewayClassName is `ferry` is Ferry's even without a GatewayClass resource, so a
 * small configuration needs no cluster-scoped boilerplate. Any other class name must name a
 * GatewayClass whose controllerName is `ferry.dev/gateway-controller`.
 */
export const IMPLICIT_CLASS_NAME = 'ferry';

export const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute'] as const;
export type RouteKindName = (typeof ROUTE_KINDS)[number];

export type BindOverrides = ReadonlyMap<string, { readonly host: string; readonly port: number }>;

export interface ListenerState {
  readonly gateway: GatewayResource;
  readonly index: number;
  readonly spec: Listener;
  /** `namespace/gateway/listener`. */
  readonly id: string;
  readonly protocol?: ListenerProtocol;
  readonly supportedKinds: readonly RouteKindName[];
  readonly tls?: TlsSpec;
  readonly bindHost: string;
  readonly bindPort: number;
  readonly bindKey: string;
  accepted: Condition;
  conflicted: Condition;
  resolvedRefs: Condition;
  /** Accepted, not conflicted and (for HTTPS) holding a usable certificate. */
  programmed: boolean;
  attachedRoutes: number;
}

export interface GatewayState {
  readonly resource: GatewayResource;
  /** False when the Gateway's class is not Ferry's: it is ignored and reported. */
  readonly managed: boolean;
  readonly classMessage: string;
  readonly listeners: ListenerState[];
  readonly errors: ConfigError[];
}

export function socketKey(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function classOf(index: ResourceIndex, gw: GatewayResource): { managed: boolean; message: string; severity: 'error' | 'warning' } {
  const name = gw.spec.gatewayClassName;
  const cls = index.gatewayClasses.get(name);
  if (cls) {
    return cls.spec.controllerName === FERRY_CONTROLLER_NAME
      ? { managed: true, message: `GatewayClass ${name} is handled by ${FERRY_CONTROLLER_NAME}`, severity: 'warning' }
      : { managed: false, message: `GatewayClass ${name} belongs to controller ${cls.spec.controllerName}, not ${FERRY_CONTROLLER_NAME}; Gateway ignored`, severity: 'warning' };
  }
  if (name === IMPLICIT_CLASS_NAME) return { managed: true, message: `gatewayClassName ${IMPLICIT_CLASS_NAME} is Ferry's built-in class`, severity: 'warning' };
  return {
    managed: false,
    message: `GatewayClass ${name} not found (define it with controllerName ${FERRY_CONTROLLER_NAME}, or use gatewayClassName ${IMPLICIT_CLASS_NAME}); Gateway ignored`,
    severity: 'error',
  };
}

function routeKinds(l: Listener, at: string, gw: GatewayResource, errors: ConfigError[]): { kinds: RouteKindName[]; invalid: string[] } {
  const declared = l.allowedRoutes?.kinds;
  if (!declared || declared.length === 0) return { kinds: [...ROUTE_KINDS], invalid: [] };
  const kinds: RouteKindName[] = [];
  const invalid: string[] = [];
  declared.forEach((k, j) => {
    const group = k.group ?? GATEWAY_GROUP;
    const supported = group === GATEWAY_GROUP && (ROUTE_KINDS as readonly string[]).includes(k.kind);
    if (supported) {
      if (!kinds.includes(k.kind as RouteKindName)) kinds.push(k.kind as RouteKindName);
    } else {
      invalid.push(`${group}/${k.kind}`);
      errors.push(resourceError(gw, `${at}.allowedRoutes.kinds[${j}]`, `route kind ${k.kind} (group ${group}) is not supported on ${l.protocol} listeners; use HTTPRoute or GRPCRoute`));
    }
  });
  return { kinds, invalid };
}

function compileListener(index: ResourceIndex, gw: GatewayResource, l: Listener, i: number, binds: BindOverrides | undefined, errors: ConfigError[]): ListenerState {
  const at = `spec.listeners[${i}]`;
  const ns = gw.metadata.namespace;
  const bind = binds?.get(`${ns}/${gw.metadata.name}/${l.port}`);
  const bindHost = bind?.host ?? '0.0.0.0';
  const bindPort = bind?.port ?? l.port;
  const base = {
    gateway: gw,
    index: i,
    spec: l,
    id: `${ns}/${gw.metadata.name}/${l.name}`,
    bindHost,
    bindPort,
    // Port 0 asks the system for a free port: each bound listener port gets its own socket, so two
    // binds to `127.0.0.1:0` never merge into one.
    bindKey: bindPort === 0 ? `${socketKey(bindHost, 0)}#${ns}/${gw.metadata.name}/${l.port}` : socketKey(bindHost, bindPort),
    conflicted: condition('Conflicted', false, 'NoConflicts', 'No conflicts'),
    attachedRoutes: 0,
  };
  if (l.protocol !== 'HTTP' && l.protocol !== 'HTTPS') {
    const message = `protocol ${l.protocol} is not supported (Ferry serves HTTP and HTTPS listeners); listener ignored`;
    errors.push(resourceError(gw, `${at}.protocol`, message));
    return {
      ...base,
      supportedKinds: [],
      accepted: condition('Accepted', false, 'UnsupportedProtocol', message),
      resolvedRefs: condition('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved'),
      programmed: false,
    };
  }
  const { kinds, invalid } = routeKinds(l, at, gw, errors);
  const refProblems: string[] = [];
  let refReason = 'ResolvedRefs';
  if (invalid.length > 0) {
    refReason = 'InvalidRouteKinds';
    refProblems.push(`unsupported route kinds: ${invalid.join(', ')}`);
  }
  let tls: TlsSpec | undefined;
  if (l.protocol === 'HTTPS') {
    const resolved = resolveListenerTls(index, gw, l, i);
    tls = resolved.tls;
    for (const p of resolved.problems) {
      errors.push(resourceError(gw, p.field, p.message));
      if (refReason === 'ResolvedRefs') refReason = p.reason;
      refProblems.push(p.message);
    }
  }
  const usable = l.protocol === 'HTTP' || tls !== undefined;
  return {
    ...base,
    protocol: l.protocol,
    supportedKinds: kinds,
    ...(tls ? { tls } : {}),
    accepted: condition('Accepted', true, 'Accepted', 'Listener is accepted'),
    resolvedRefs:
      refProblems.length === 0
        ? condition('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved')
        : condition('ResolvedRefs', false, refReason, refProblems.join('; ')),
    programmed: usable,
  };
}

/** Marks listeners that share a socket with an older listener of another protocol or the same hostname. */
function detectConflicts(listeners: readonly ListenerState[]): void {
  const bySocket = new Map<string, ListenerState[]>();
  for (const l of listeners) {
    if (l.protocol === undefined) continue;
    const list = bySocket.get(l.bindKey) ?? [];
    list.push(l);
    bySocket.set(l.bindKey, list);
  }
  for (const [key, list] of bySocket) {
    const winners: ListenerState[] = [];
    for (const l of list) {
      const first = winners[0];
      if (first && first.protocol !== l.protocol) {
        const message = `socket ${key} already serves ${first.protocol} for listener ${first.id}; this ${l.protocol} listener cannot share it`;
        l.conflicted = condition('Conflicted', true, 'ProtocolConflict', message);
        l.programmed = false;
        continue;
      }
      const clash = winners.find((w) => (w.spec.hostname ?? '') === (l.spec.hostname ?? ''));
      if (clash) {
        const host = l.spec.hostname ?? '(any hostname)';
        const message = `hostname ${host} on socket ${key} is already used by listener ${clash.id}`;
        l.conflicted = condition('Conflicted', true, 'HostnameConflict', message);
        l.programmed = false;
        continue;
      }
      winners.push(l);
    }
  }
}

/** Compiles every Gateway (oldest first); listeners of unmanaged Gateways are not compiled. */
export function compileGateways(index: ResourceIndex, binds: BindOverrides | undefined): GatewayState[] {
  const states: GatewayState[] = index.gateways.map((gw) => {
    const errors: ConfigError[] = [];
    const cls = classOf(index, gw);
    if (!cls.managed) {
      errors.push(resourceError(gw, 'spec.gatewayClassName', cls.message, cls.severity));
      return { resource: gw, managed: false, classMessage: cls.message, listeners: [], errors };
    }
    if ((gw.spec.addresses?.length ?? 0) > 0) {
      errors.push(resourceError(gw, 'spec.addresses', 'addresses are ignored: Ferry binds each listener to 0.0.0.0:<port> unless a bind override names it', 'warning'));
    }
    const listeners = gw.spec.listeners.map((l, i) => compileListener(index, gw, l, i, binds, errors));
    return { resource: gw, managed: true, classMessage: cls.message, listeners, errors };
  });
  const all = states.flatMap((s) => s.listeners);
  detectConflicts(all);
  for (const s of states) {
    for (const l of s.listeners) {
      if (l.conflicted.status === 'True') s.errors.push(resourceError(s.resource, `spec.listeners[${l.index}]`, l.conflicted.message));
    }
  }
  return states;
}
