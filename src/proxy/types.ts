/** The data plane's public API types. */
import type { Clock, Random } from '../lib/index.ts';
import type { EndpointSets, Snapshot } from '../snapshot/index.ts';

export interface ProxyLimits {
  /** Request header bytes before 431 (HTTP/1.1 maxHeaderSize, HTTP/2 maxHeaderListSize). Default 16384. */
  maxHeaderBytes?: number;
  /** Header fields per request. Default 100. */
  maxHeadersCount?: number;
  /** Time to receive a request's headers. Default 15000. */
  headersTimeoutMs?: number;
  /** Time to receive a whole request. Default 300000. */
  requestTimeoutMs?: number;
  /** Idle keep-alive on client connections. Default 5000. */
  keepAliveTimeoutMs?: number;
  /** Requests per HTTP/1.1 connection before it is closed. Default 1000. */
  maxRequestsPerSocket?: number;
  /** Concurrent streams per HTTP/2 connection. Default 100. */
  h2MaxConcurrentStreams?: number;
}

export interface ProxyOptions {
  clock?: Clock;
  random?: Random;
  /** `%2F` and `%5C` in paths: 400 (`reject`, default), kept encoded (`keep`), or turned into `/` (`decode`). */
  encodedSlashes?: 'reject' | 'keep' | 'decode';
  /** Merge runs of `/` in paths. Default true. */
  mergeSlashes?: boolean;
  limits?: ProxyLimits;
}

export interface BoundSocket {
  key: string;
  host: string;
  /** The port actually bound, also when 0 was asked for. */
  port: number;
  protocol: 'HTTP' | 'HTTPS';
}

export interface ApplyResult {
  bound: BoundSocket[];
  errors: { socket: string; message: string }[];
}

export interface Proxy {
  /** Swaps to `snapshot` atomically; binds new sockets, keeps and re-points existing ones, drains removed ones. */
  apply(snapshot: Snapshot): Promise<ApplyResult>;
  /** Replaces endpoint lists in place: no route rebuild, no pool teardown for endpoints that stay. */
  setEndpoints(endpoints: EndpointSets): void;
  sockets(): BoundSocket[];
  /** Stops accepting, lets in-flight requests finish within `graceMs`, then closes everything. */
  drain(graceMs: number): Promise<void>;
}

export interface ResolvedLimits {
  readonly maxHeaderBytes: number;
  readonly maxHeadersCount: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxRequestsPerSocket: number;
  readonly h2MaxConcurrentStreams: number;
}

export function resolveLimits(l: ProxyLimits | undefined): ResolvedLimits {
  return {
    maxHeaderBytes: l?.maxHeaderBytes ?? 16_384,
    maxHeadersCount: l?.maxHeadersCount ?? 100,
    headersTimeoutMs: l?.headersTimeoutMs ?? 15_000,
    requestTimeoutMs: l?.requestTimeoutMs ?? 300_000,
    keepAliveTimeoutMs: l?.keepAliveTimeoutMs ?? 5_000,
    maxRequestsPerSocket: l?.maxRequestsPerSocket ?? 1_000,
    h2MaxConcurrentStreams: l?.h2MaxConcurrentStreams ?? 100,
  };
}
