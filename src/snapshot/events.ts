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
  /** Labels of the endpoint that answered (platform, cluster, zone, version...), or null. */
  readonly endpointLabels?: Readonly<Record<string, string>> | null;
}

/** Upstream connection pool activity, for connection and error counters. */
export interface UpstreamEvent {
  readonly type: 'connect' | 'disconnect' | 'connect_error' | 'reset' | 'timeout' | 'retry' | 'overflow'
    | 'mirror_sent' | 'mirror_dropped' | 'mirror_failed' | 'mirror_skipped'
    | 'health_failed' | 'health_passed' | 'ejected' | 'uneject';
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

/** A response as captured for comparison (body truncated to the mirror's maxBodyBytes). */
export interface CapturedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** True when the body was longer than the capture limit (then it is not compared). */
  readonly truncated: boolean;
  readonly durationMs: number;
  /** Set when no response came back (connect error, timeout, reset). */
  readonly error?: string;
}

/** One mirrored request with both answers, for response diffing (RequestMirror with `compare`). */
export interface MirrorSample {
  readonly key: string;
  readonly ruleId: string;
  readonly routeId: string;
  readonly method: string;
  readonly path: string;
  /** The mirror backend's id (the candidate). */
  readonly backend: string;
  readonly primary: CapturedResponse;
  readonly candidate: CapturedResponse;
  /** A second answer from the primary backend, for noise cancellation. */
  readonly secondary?: CapturedResponse;
}

export const requestChannel = channel('ferry:request');
export const mirrorChannel = channel('ferry:mirror');
export const upstreamChannel = channel('ferry:upstream');
export const configChannel = channel('ferry:config');
