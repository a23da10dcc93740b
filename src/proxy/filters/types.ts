/**
 * The filter protocol: a factory validates and precomputes once per snapshot; the per-request hook is a
 * plain method called in a loop (no recursive async next()). A request filter returns true when it has
 * answered the request itself (a redirect), which stops the chain.
 */
import type { Random } from '../../lib/index.ts';
import type { MirrorCompare } from '../../snapshot/index.ts';

/** A mirror chosen for a request; upstream/mirror.ts applies the method, size and concurrency rules. */
export interface MirrorTarget {
  readonly backendId: string;
  /** Larger request bodies are not mirrored (`mirror_skipped`). */
  readonly maxBodyBytes: number;
  /** Mirror methods other than GET, HEAD and OPTIONS. */
  readonly allowUnsafeMethods: boolean;
  /** Host/:authority for the copy, or null for the request's own. */
  readonly host: string | null;
  readonly compare: MirrorCompare | null;
}

/** What filters may read and change on a request. Names in `headers` are lower-case. */
export interface FilterContext {
  /** Request headers to forward, flat `[name, value, ...]`. */
  headers: string[];
  /** Path to forward (normalised, no query). */
  path: string;
  /** Query with its leading `?`, or ''. */
  query: string;
  /** Canonical request host (lower-case, no port). */
  readonly host: string;
  /** Host header to forward instead of the client's, or null. */
  forwardHost: string | null;
  /** The PathPrefix value of the matched route, or null. */
  readonly matchedPrefix: string | null;
  readonly scheme: 'http' | 'https';
  /** The listener's declared port. */
  readonly listenerPort: number;
  /** Mirrors chosen for this request (lazily created). */
  mirrors: MirrorTarget[] | null;
  /** Answers the request locally (ends the filter chain). */
  reply(status: number, headers: string[], body: string): void;
}

export interface RequestFilter {
  onRequest(x: FilterContext): boolean;
}

export interface ResponseFilter {
  /** Changes the flat response header list in place. */
  onResponse(headers: string[]): void;
}

export interface FilterDeps {
  readonly random: Random;
}
