/**
 * Virtual hosts of one listener: one per effective hostname, most specific first. Because a request
 * is served by the first virtual host whose hostname matches (no fall-through), each virtual host
 * lists its own routes and then those of every less specific hostname that also covers it, which
 * is exactly Gateway API precedence: hostname first, then the match criteria.
 */
import type { RouteEntry, VirtualHostSpec } from '../snapshot/index.ts';
import { compareHostSpecificity, hostCovers } from './hostnames.ts';
import { compareMatches, type MatchKey } from './matches.ts';

export interface Candidate {
  readonly entry: RouteEntry;
  readonly key: MatchKey;
}

/** Hostname → candidates, as collected from the routes attached to one listener. */
export type HostGroups = ReadonlyMap<string, readonly Candidate[]>;

export function buildVirtualHosts(groups: HostGroups): VirtualHostSpec[] {
  const hostnames = [...groups.keys()].sort(compareHostSpecificity);
  const sorted = new Map(hostnames.map((h) => [h, [...(groups.get(h) ?? [])].sort((a, b) => compareMatches(a.key, b.key))]));
  return hostnames.map((hostname) => ({
    hostname,
    routes: hostnames.filter((g) => hostCovers(g, hostname)).flatMap((g) => (sorted.get(g) ?? []).map((c) => c.entry)),
  }));
}
