/**
 * A RuleSpec turned into what the request path needs: filter chains, a cumulative weight table for
 * backend choice, timeouts and retry policy. Built once per snapshot.
 *
 * Sticky splits: when a backend of the rule balances by a hash (RingHash/Maglev with `hashOn`), the
 * weighted backend choice is made from a hash of that same key instead of a random draw, so a user
 * (cookie, header, source IP, parameter) keeps reaching the same copy of the service for as long as
 * the weights hold, and then the same endpoint inside it. The key of the first such backend in the
 * rule is used. The share is placed by the key's position on the weight line, so when weights
 * change only the users whose position crosses a boundary move. Requests without the key (and rules
 * without hash-balanced backends) are split at random.
 *
 * A rule's `sticky` split (a Rollout's sticky step) replaces the weighted choice altogether: the
 * value of its header or cookie is hashed to a position in [0, 100), and positions below `percent`
 * go to the candidate, the rest to stable. The position depends on the value alone, so a user stays
 * on the same copy across requests, reloads and replicas, and raising the percentage only moves
 * stable users to the candidate. A request without the value goes to stable; no cookie is set.
 */
import type { BackendSpec, HashOn, RuleSpec, StickySplit, WeightedBackend } from '../../snapshot/index.ts';
import type { Random } from '../../lib/index.ts';
import { compileFilters, EMPTY_CHAIN, type FilterChain, type FilterDeps } from '../filters/index.ts';
import { ruleRetryPolicy, type RetryPolicy } from '../upstream/retry-policy.ts';
import { HashKey, keyValue, type HashRequest } from '../upstream/hash-key.ts';
import { isHashPolicy } from '../upstream/lb/index.ts';
import { hash32, mix32, SEED_SHARE, unit } from '../upstream/lb/hash.ts';
import { NO_HASH } from '../upstream/balancer.ts';

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
  /** The rule's own retry policy; null = the chosen backend's policy applies. */
  readonly retry: RetryPolicy | null;
  /** Key the backend choice is sticky on, or null for a random split. */
  readonly affinity: HashKey | null;
  /** A sticky split between stable and candidate, replacing the weighted choice; null when none. */
  readonly sticky: StickyChoice | null;
}

export interface StickyChoice {
  readonly hashOn: HashOn;
  readonly percent: number;
  readonly stable: BackendShare;
  readonly candidate: BackendShare;
}

/** Seed of the sticky split position, independent of the share, level and endpoint hashes. */
const SEED_STICKY = 0x5354;

/** A user's position in [0, 100) for sticky splits: a pure function of the header or cookie value. */
export function stickyPosition(value: string): number {
  return 100 * unit(mix32(hash32(value), SEED_STICKY));
}

function shareFor(b: WeightedBackend | undefined, id: string, deps: FilterDeps): BackendShare {
  return {
    backendId: b === undefined ? id : b.backendId,
    invalidReason: b?.invalidReason ?? 'backendRef could not be resolved',
    filters: b === undefined ? EMPTY_CHAIN : compileFilters(b.filters, deps),
  };
}

function compileSticky(spec: StickySplit, backends: readonly WeightedBackend[], deps: FilterDeps): StickyChoice {
  const find = (id: string) => backends.find((b) => b.backendId === id);
  return {
    hashOn: spec.hashOn,
    percent: spec.percent,
    stable: shareFor(find(spec.stableBackendId), spec.stableBackendId, deps),
    candidate: shareFor(find(spec.candidateBackendId), spec.candidateBackendId, deps),
  };
}

export function compileRule(spec: RuleSpec, deps: FilterDeps, backends: Readonly<Record<string, BackendSpec>> = {}): CompiledRule {
  const shares: BackendShare[] = [];
  const cumulative: number[] = [];
  let total = 0;
  let affinity: HashKey | null = null;
  for (const b of spec.backends) {
    if (!(b.weight > 0)) continue;
    total += b.weight;
    cumulative.push(total);
    shares.push({
      backendId: b.backendId,
      invalidReason: b.invalidReason ?? 'backendRef could not be resolved',
      filters: compileFilters(b.filters, deps),
    });
    const lb = b.backendId === null ? undefined : backends[b.backendId]?.policy.loadBalancer;
    if (affinity === null && lb !== undefined && isHashPolicy(lb)) affinity = new HashKey(lb.hashOn!, deps.random);
  }
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
    retry: ruleRetryPolicy(spec.retry),
    affinity: shares.length > 1 ? affinity : null,
    sticky: spec.sticky === undefined || spec.sticky === null ? null : compileSticky(spec.sticky, spec.backends, deps),
  };
}

/** Weighted choice; undefined when the rule has no backend with weight > 0. */
// HOT PATH
export function chooseShare(rule: CompiledRule, random: Random, x: HashRequest): BackendShare | undefined {
  const sticky = rule.sticky;
  if (sticky !== null) {
    const v = keyValue(sticky.hashOn, x);
    return v !== null && stickyPosition(v) < sticky.percent ? sticky.candidate : sticky.stable;
  }
  const n = rule.shares.length;
  if (n === 0) return undefined;
  if (n === 1) return rule.shares[0];
  let u = -1;
  if (rule.affinity !== null) {
    const h = rule.affinity.hash(x);
    if (h !== NO_HASH) u = unit(mix32(h, SEED_SHARE));
  }
  const r = (u < 0 ? random() : u) * rule.totalWeight;
  const c = rule.cumulative;
  for (let i = 0; i < n; i++) if (r < c[i]) return rule.shares[i];
  return rule.shares[n - 1];
}
