/**
 * What the data plane publishes for observers (metrics, access log, dashboard). The proxy never
 * imports those observers: it publishes on diagnostics_channel, which costs nothing when nobody
 * subscribes. Observers subscribe in observe/.
 */
import { channel } from 'node:diagnostics_channel';

/** One finished downstream request (or WebSocket session), published once. */
export interface RequestRecord {
  /** Epoch ms when the request arrived. */
  readonly startTime: number;
  /** `namespace/name` of the Gateway, and the listener id `namespace/gateway/listener`. */
  readonly gateway: string;
  readonly listener: string;
  /** `HTTPRoute/ns/name`, or null when no route matched. */
  readonly route: string | null;
  /** Rule id, or null. */
  readonly rule: string | null;
  /** Backend id (`Service/ns/name:port`), or null when none was chosen. */
  readonly backend: string | null;
  /** `address:port` of the endpoint of the last attempt, or null. */
  readonly endpoint: string | null;
  readonly method: string;
  /** The normalised path (without query). */
  readonly path: string;
  readonly host: string;
  /** `HTTP/1.1`, `HTTP/2`, or `WebSocket`. */
  readonly protocol: string;
  readonly status: number;
  /** gRPC status from trailers, when the response was gRPC. */
  readonly grpcStatus?: string;
  /** Total time until the response finished, in ms. */
  readonly durationMs: number;
  /** Time from sending upstream to upstream response headers (last attempt), in ms, or null. */
  readonly upstreamMs: number | null;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly requestId: string;
  readonly clientAddress: string;
  /** Why Ferry itself answered or failed: `no_route`, `no_endpoints`, `invalid_backend`,
   * `upstream_connect_failure`, `upstream_reset`, `upstream_timeout`, `request_timeout`,
   * `bad_request`, `client_aborted`, `redirect`... Absent when the upstream answered normally. */
  readonly error?: string;
  /** Upstream attempts made (0 when none). */
  readonly attempts: number;
}

/** Upstream connection pool activity, for connection and error counters. */
export interface UpstreamEvent {
  readonly type: 'connect' | 'disconnect' | 'connect_error' | 'reset' | 'timeout' | 'retry' | 'mirror_sent' | 'mirror_dropped' | 'mirror_failed';
  readonly backend: string;
  /** `address:port`. */
  readonly endpoint: string;
  /** `http1` or `h2c`. */
  readonly protocol: string;
}

/** Configuration loads: applied, rejected (kept last good), or unchanged. */
export interface ConfigEvent {
  readonly outcome: 'applied' | 'rejected' | 'unchanged';
  readonly hash: string;
  readonly errors: number;
}

export const requestChannel = channel('ferry:request');
export const upstreamChannel = channel('ferry:upstream');
export const configChannel = channel('ferry:config');
