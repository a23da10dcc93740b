/**
 * A RuleSpec turned into what the request path needs: filter chains, a cumulative weight table for
 * backend choice, timeouts and retry policy. Built once per snapshot.
 */
import type { RuleSpec, RetrySpec } from '../../snapshot/index.ts';
import type { Random } from '../../lib/index.ts';
import { compileFilters, type FilterChain, type FilterDeps } from '../filters/index.ts';

export interface BackendShare {
  readonly backendId: string | null;
  readonly invalidReason: string;
  readonly filters: FilterChain;
}

export interface CompiledRule {
  readonly id: string;
  readonly routeId: string;
  readonly kind: RuleSpec['kind'];
  readonly filters: FilterChain;
  /** Shares with weight > 0, and their cumulative weights. */
  readonly shares: readonly BackendShare[];
  readonly cumulative: readonly number[];
  readonly totalWeight: number;
  readonly requestMs: number;
  readonly backendRequestMs: number;
  readonly retry: RetrySpec | null;
  readonly retryCodes: ReadonlySet<number>;
}

export function compileRule(spec: RuleSpec, deps: FilterDeps): CompiledRule {
  const shares: BackendShare[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const b of spec.backends) {
    if (!(b.weight > 0)) continue;
    total += b.weight;
    cumulative.push(total);
    shares.push({
      backendId: b.backendId,
      invalidReason: b.invalidReason ?? 'backendRef could not be resolved',
      filters: compileFilters(b.filters, deps),
    });
  }
  const retry = spec.retry && spec.retry.attempts > 0 ? spec.retry : null;
  return {
    id: spec.id,
    routeId: spec.routeId,
    kind: spec.kind,
    filters: compileFilters(spec.filters, deps),
    shares,
    cumulative,
    totalWeight: total,
    requestMs: spec.timeouts?.requestMs ?? 0,
    backendRequestMs: spec.timeouts?.backendRequestMs ?? 0,
    retry,
    retryCodes: new Set(retry?.codes ?? []),
  };
}

/** Weighted choice; undefined when the rule has no backend with weight > 0. */
// HOT PATH
export function chooseShare(rule: CompiledRule, random: Random): BackendShare | undefined {
  const n = rule.shares.length;
  if (n === 0) return undefined;
  if (n === 1) return rule.shares[0];
  const r = random() * rule.totalWeight;
  const c = rule.cumulative;
  for (let i = 0; i < n; i++) if (r < c[i]) return rule.shares[i];
  return rule.shares[n - 1];
}
