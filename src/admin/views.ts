/**
 * What the admin API shows: the effective configuration (snapshot with private keys redacted,
 * endpoints per backend, and where each socket is actually bound) and the status of the last load.
 */
import type { CompileReport, EndpointSets, Endpoint, Snapshot, SocketSpec } from '../snapshot/index.ts';
import type { SourceStatus } from '../snapshot/index.ts';
import type { AdminState, BoundSocketInfo } from './state.ts';

export const REDACTED = '<redacted>';

export interface ConfigView extends Omit<Snapshot, 'sockets'> {
  /** The snapshot's sockets, each with the address it is actually bound to (null when not bound). */
  readonly sockets: readonly (SocketSpec & { readonly bound: BoundSocketInfo | null })[];
  /** Backend id → its endpoints. */
  readonly endpoints: Readonly<Record<string, readonly Endpoint[]>>;
  /** Every socket actually bound, as the proxy reports it. */
  readonly listening: readonly BoundSocketInfo[];
  /** Per rule: the route's declared weights, the weights in force, and who set them. */
  readonly splits: Readonly<Record<string, SplitView>>;
}

export interface SplitView {
  readonly backends: readonly (string | null)[];
  readonly declared: readonly number[];
  readonly effective: readonly number[];
  /** `route`, or `Rollout <namespace>/<name>` when a Rollout's weights win. */
  readonly setBy: string;
}

function splits(snapshot: Snapshot): Record<string, SplitView> {
  const out: Record<string, SplitView> = {};
  for (const [id, rule] of Object.entries(snapshot.rules)) {
    const effective = rule.backends.map((b) => b.weight);
    out[id] = {
      backends: rule.backends.map((b) => b.backendId),
      declared: rule.rollout?.declared ?? effective,
      effective,
      setBy: rule.rollout ? `Rollout ${rule.rollout.name}` : 'route',
    };
  }
  return out;
}

export interface StatusView {
  readonly lastReload: ReturnType<AdminState['lastReload']>;
  readonly resources: CompileReport['resources'];
  readonly errors: CompileReport['errors'];
  /** Discovery sources (Consul, DNS, Kubernetes, static) and how each is doing. */
  readonly sources: readonly SourceStatus[];
  /** Every Rollout: phase, step, the traffic it sets, the last analysis and its transitions. */
  readonly rollouts: readonly unknown[];
}

export function configView(snapshot: Snapshot, endpoints: EndpointSets, bound: readonly BoundSocketInfo[]): ConfigView {
  const byKey = new Map(bound.map((b) => [b.key, b]));
  return {
    ...snapshot,
    sockets: snapshot.sockets.map((s) => ({ ...s, bound: byKey.get(s.key) ?? null })),
    endpoints: Object.fromEntries(endpoints),
    listening: bound,
    splits: splits(snapshot),
  };
}

export function statusView(state: AdminState): StatusView {
  const report = state.report();
  return { lastReload: state.lastReload(), resources: report?.resources ?? [], errors: report?.errors ?? [], sources: state.sources?.() ?? [], rollouts: state.rollouts?.list() ?? [] };
}

/** JSON with every `keyPem` replaced by `<redacted>`, wherever it sits. */
export function redactedJson(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => (key === 'keyPem' ? REDACTED : v), 2);
}
