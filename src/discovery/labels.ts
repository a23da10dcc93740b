/** Label helpers shared by the providers: merging, and canonical comparison of endpoint lists. */
import type { Endpoint } from '../snapshot/index.ts';

/** Later maps win; undefined and empty-string-keyed entries are skipped. */
export function mergeLabels(...parts: (Readonly<Record<string, string | undefined>> | undefined)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of parts) {
    if (!part) continue;
    for (const [k, v] of Object.entries(part)) if (k !== '' && v !== undefined) out[k] = v;
  }
  return out;
}

/** `address|port`: the identity of an endpoint within a backend (IPv6-safe). */
export function endpointKey(e: Pick<Endpoint, 'address' | 'port'>): string {
  return `${e.address}|${e.port}`;
}

/** Sorts by address then port so equal sets compare equal whatever order a source answered in. */
export function sortEndpoints(list: Endpoint[]): Endpoint[] {
  return list.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
}

/** A stable string for "did this list change?" (label key order does not matter). */
export function fingerprint(list: readonly Endpoint[]): string {
  return JSON.stringify(
    list.map((e) => [e.address, e.port, e.ready, e.weight ?? 1, Object.entries(e.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]),
  );
}
