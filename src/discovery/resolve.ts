/**
 * Pure merging of discovered endpoints into per-Backend lists: the union of a Backend's sources in
 * the order the plan lists them, deduplicated by address:port (the first source wins), then filtered
 * by the Backend's subset labels. Every Backend of the plan gets an entry; sources not yet known
 * contribute nothing, so a Backend whose sources have never answered maps to an empty list.
 */
import type { DiscoveryPlan, Endpoint } from '../snapshot/index.ts';
import { endpointKey } from './labels.ts';

export function resolveBackendEndpoints(
  plan: DiscoveryPlan,
  lookup: (key: string) => readonly Endpoint[] | undefined,
): Map<string, readonly Endpoint[]> {
  const out = new Map<string, readonly Endpoint[]>();
  for (const [backendId, backend] of Object.entries(plan.backends)) {
    const selector = Object.entries(backend.matchLabels);
    const seen = new Set<string>();
    const list: Endpoint[] = [];
    for (const key of backend.sources) {
      for (const e of lookup(key) ?? []) {
        const id = endpointKey(e);
        if (seen.has(id)) continue;
        seen.add(id);
        if (selector.every(([k, v]) => e.labels[k] === v)) list.push(e);
      }
    }
    out.set(backendId, list);
  }
  return out;
}
