/**
 * Snapshot → runtime: per socket, its listeners (indexed by hostname), each listener's virtual hosts
 * and their route tables, sharing one CompiledRule per rule id. Everything the request path needs is
 * precomputed here, before the swap, so a request only reads.
 */
import type { ListenerSpec, Snapshot, SocketSpec } from '../../snapshot/index.ts';
import type { FilterDeps } from '../filters/index.ts';
import { HostIndex } from '../route/host.ts';
import { RouteTable } from '../route/route-table.ts';
import { compileRule, type CompiledRule } from './rule.ts';

export interface VhostRuntime {
  readonly hostname: string;
  readonly table: RouteTable<CompiledRule | null>;
}

export interface ListenerRuntime {
  readonly spec: ListenerSpec;
  readonly id: string;
  /** `namespace/name` of the Gateway. */
  readonly gateway: string;
  readonly scheme: 'http' | 'https';
  /** The declared port, as text for X-Forwarded-Port. */
  readonly portText: string;
  readonly vhosts: HostIndex<VhostRuntime>;
}

export interface SocketRuntime {
  readonly spec: SocketSpec;
  readonly listeners: HostIndex<ListenerRuntime>;
}

export interface CompiledSnapshot {
  readonly snapshot: Snapshot;
  readonly sockets: ReadonlyMap<string, SocketRuntime>;
  readonly errors: { socket: string; message: string }[];
}

export function compileSnapshot(snapshot: Snapshot, deps: FilterDeps): CompiledSnapshot {
  const rules = new Map<string, CompiledRule>();
  const errors: { socket: string; message: string }[] = [];
  const ruleOf = (id: string): CompiledRule | null => {
    let r = rules.get(id);
    if (r === undefined) {
      const spec = snapshot.rules[id];
      if (spec === undefined) return null;
      r = compileRule(spec, deps, snapshot.backends);
      rules.set(id, r);
    }
    return r;
  };
  const sockets = new Map<string, SocketRuntime>();
  for (const spec of snapshot.sockets) {
    const onError = (message: string) => errors.push({ socket: spec.key, message });
    const listeners = spec.listeners.map((l): ListenerRuntime => ({
      spec: l,
      id: l.id,
      gateway: `${l.gatewayNamespace}/${l.gatewayName}`,
      scheme: l.protocol === 'HTTPS' ? 'https' : 'http',
      portText: String(l.port),
      vhosts: new HostIndex(
        l.virtualHosts.map((v) => ({ hostname: v.hostname, table: new RouteTable(v.routes, (e) => ruleOf(e.ruleId), onError) })),
        (v) => v.hostname,
      ),
    }));
    sockets.set(spec.key, { spec, listeners: new HostIndex(listeners, (l) => l.spec.hostname) });
  }
  return { snapshot, sockets, errors };
}
