/**
 * compile(): resources (+ Rollout traffic overrides) → Snapshot + CompileReport + DiscoveryPlan +
 * what each Rollout resolved to. Pure: no I/O, clock or
 * randomness; equal input gives byte-identical JSON (everything is sorted) and `hash` is the sha256
 * of the canonical JSON of sockets, rules and backends (the discovery plan is not part of it: source
 * changes reach the proxy as endpoint sets, not as a new snapshot).
 */
import type { ConfigError } from '../lib/index.ts';
import type { Resource, RouteResource } from '../resources/index.ts';
import type { BackendSpec, CompileReport, DiscoveryPlan, ListenerSpec, RuleSpec, Snapshot, SocketSpec } from '../snapshot/index.ts';
import { attachRoutes } from './attach.ts';
import { compileBackends } from './backends.ts';
import { compileMesh } from './mesh.ts';
import { resolvePolicies } from './policies.ts';
import { compileGateways, type BindOverrides, type ListenerState } from './gateways.ts';
import { compareHostSpecificity } from './hostnames.ts';
import { buildIndex, compareAge, compareStrings } from './model.ts';
import { buildReport } from './report.ts';
import { applyRollouts, type TrafficOverrides } from './rollout-overrides.ts';
import { resolveRollouts, type RolloutOutcome } from './rollouts.ts';
import { compileRoute, type CompiledRoute } from './rules.ts';
import { sha256Hex, stableStringify } from './stable-json.ts';
import { buildVirtualHosts, type Candidate } from './virtual-hosts.ts';

export interface CompileInput {
  readonly resources: readonly Resource[];
  /** `namespace/gateway/port` → the address to bind instead of `0.0.0.0:<port>`. */
  readonly binds?: BindOverrides;
  /** Errors found while loading (YAML syntax, rejected resources): carried into the report. */
  readonly errors?: readonly ConfigError[];
  /**
   * Traffic overrides from the rollout controller, by the Rollout's `namespace/name`. A Rollout
   * without one leaves its rule's weights as declared (its candidate is still added, at weight 0).
   */
  readonly overrides?: TrafficOverrides;
}

export interface CompileResult {
  readonly snapshot: Snapshot;
  readonly report: CompileReport;
  /**
   * What to watch so Ferry Backends get endpoints: Mesh clusters, every source once by key, and per
   * valid Backend (referenced by a route or not) its source keys and subset labels.
   */
  readonly discovery: DiscoveryPlan;
  /** Every Rollout by `namespace/name`: its spec and the rule and backends it drives, or why none. */
  readonly rollouts: Record<string, RolloutOutcome>;
}

function sortedRecord<T>(map: ReadonlyMap<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of [...map.keys()].sort(compareStrings)) out[key] = map.get(key) as T;
  return out;
}

function compareListeners(a: ListenerState, b: ListenerState): number {
  return compareHostSpecificity(a.spec.hostname, b.spec.hostname) || compareAge(a.gateway, b.gateway) || a.index - b.index;
}

export function compile(input: CompileInput): CompileResult {
  const index = buildIndex(input.resources);
  const gateways = compileGateways(index, input.binds);
  const mesh = compileMesh(index);
  const ferryBackends = compileBackends(index, mesh);
  const policies = resolvePolicies(index, ferryBackends.states);
  const attached = attachRoutes(index, gateways);
  const compiled = new Map<RouteResource, CompiledRoute>();
  const ctx = { backends: ferryBackends.states, policies };
  for (const a of attached) compiled.set(a.route, compileRoute(index, a.route, ctx));
  const served = new Set(attached.filter((a) => a.parents.some((p) => p.attachments.some((x) => x.listener.programmed))).map((a) => a.route));
  const rollouts = resolveRollouts(index, compiled, ctx, (route) => served.has(route));
  const driven = applyRollouts(compiled, rollouts.states, input.overrides);

  // Collect candidates per programmed listener and hostname.
  const groups = new Map<ListenerState, Map<string, Candidate[]>>();
  const usedRules = new Map<string, RuleSpec>();
  const backends = new Map<string, BackendSpec>();
  for (const a of attached) {
    const route = driven.get(a.route) as CompiledRoute;
    const seen = new Set<string>();
    for (const parent of a.parents) {
      for (const { listener, hostnames } of parent.attachments) {
        if (!listener.programmed) continue;
        const byHost = groups.get(listener) ?? new Map<string, Candidate[]>();
        groups.set(listener, byHost);
        for (const h of hostnames) {
          const dedupe = `${listener.id}|${h}`;
          if (seen.has(dedupe)) continue;
          seen.add(dedupe);
          const list = byHost.get(h) ?? [];
          byHost.set(h, list);
          for (const rule of route.rules) {
            usedRules.set(rule.spec.id, rule.spec);
            for (const b of rule.backends) {
              const prev = backends.get(b.id);
              backends.set(b.id, prev && prev.protocol === 'h2c' ? prev : b);
            }
            for (const m of rule.matches) {
              list.push({
                key: m.key,
                entry: { routeId: a.routeId, kind: a.route.kind, ruleId: rule.spec.id, matchIndex: m.key.matchIndex, match: m.match },
              });
            }
          }
        }
      }
    }
  }

  // Sockets: programmed listeners grouped by bind address.
  const bySocket = new Map<string, ListenerState[]>();
  for (const g of gateways) {
    for (const l of g.listeners) {
      if (!l.programmed) continue;
      const list = bySocket.get(l.bindKey) ?? [];
      list.push(l);
      bySocket.set(l.bindKey, list);
    }
  }
  const sockets: SocketSpec[] = [...bySocket.values()]
    .map((list) => {
      const first = list[0];
      const listeners: ListenerSpec[] = [...list].sort(compareListeners).map((l) => ({
        id: l.id,
        gatewayNamespace: l.gateway.metadata.namespace,
        gatewayName: l.gateway.metadata.name,
        name: l.spec.name,
        ...(l.spec.hostname !== undefined ? { hostname: l.spec.hostname } : {}),
        port: l.spec.port,
        protocol: l.protocol as 'HTTP' | 'HTTPS',
        ...(l.tls ? { tls: l.tls } : {}),
        virtualHosts: buildVirtualHosts(groups.get(l) ?? new Map()),
      }));
      return { key: first.bindKey, bindHost: first.bindHost, bindPort: first.bindPort, protocol: first.protocol as 'HTTP' | 'HTTPS', listeners };
    })
    .sort((a, b) => a.bindPort - b.bindPort || compareStrings(a.bindHost, b.bindHost));

  const rules = sortedRecord(usedRules);
  const backendRecord = sortedRecord(backends);
  const hash = sha256Hex(stableStringify({ sockets, rules, backends: backendRecord }));
  const snapshot: Snapshot = { hash, sockets, rules, backends: backendRecord };

  const errors: ConfigError[] = [
    ...(input.errors ?? []),
    ...index.errors,
    ...gateways.flatMap((g) => g.errors),
    ...mesh.errors,
    ...ferryBackends.errors,
    ...attached.flatMap((a) => [...a.errors, ...(compiled.get(a.route) as CompiledRoute).errors]),
    ...rollouts.errors,
  ];
  const report = buildReport({
    index,
    gateways,
    routes: attached,
    compiled,
    errors,
    mesh,
    backends: ferryBackends.states,
    policies: policies.statuses,
    rollouts: new Map(rollouts.states.map((s) => [s.resource, s])),
  });
  const discovery = ferryBackends.plan.build(mesh.clusters);
  const outcomes: Record<string, RolloutOutcome> = {};
  for (const s of [...rollouts.states].sort((a, b) => compareStrings(a.key, b.key))) outcomes[s.key] = s.outcome;
  return { snapshot, report, discovery, rollouts: outcomes };
}
