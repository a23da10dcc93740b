/** Upstream failure classes and the short bodies Ferry answers with. */

export type FailureKind = 'connect' | 'reset' | 'timeout' | 'status';

/** Abort reason for an attempt that hit backendRequestMs. */
export class AttemptTimeout extends Error {
  override name = 'AttemptTimeout';
  constructor() { super('upstream attempt timed out'); }
}

/** Abort reason for an attempt whose status code asks for a retry. */
export class RetryStatus extends Error {
  override name = 'RetryStatus';
  readonly status: number;
  constructor(status: number) { super(`upstream answered ${status}`); this.status = status; }
}

/** Abort reason when the whole request hit requestMs or the client went away. */
export class RequestAborted extends Error {
  override name = 'RequestAborted';
}

/** HTTP/2 stream refused (REFUSED_STREAM, or beyond a GOAWAY's last stream id): never processed. */
export class StreamRefused extends Error {
  override name = 'StreamRefused';
  readonly code = 'ERR_STREAM_REFUSED';
}

/** Codes of the HTTP/1.1 pool's own failures (upstream/h1-connection.ts). */
export const UPSTREAM_CONNECT_TIMEOUT = 'ERR_UPSTREAM_CONNECT_TIMEOUT';
/** The pool was closed or destroyed before the request went out. */
export const UPSTREAM_POOL_CLOSED = 'ERR_UPSTREAM_POOL_CLOSED';
/** The connection closed before the response was complete. */
export const UPSTREAM_CLOSED = 'ERR_UPSTREAM_CLOSED';
/** The upstream broke HTTP/1.1 framing (the parser's error is the cause). */
export const UPSTREAM_PROTOCOL = 'ERR_UPSTREAM_PROTOCOL';
/** The request body did not match its Content-Length, or failed. */
export const UPSTREAM_REQUEST_BODY = 'ERR_UPSTREAM_REQUEST_BODY';

/** A failure of an upstream connection, with a `code` classify() understands. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  readonly code: string;
  constructor(code: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
  }
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT', 'ERR_STREAM_REFUSED', 'ERR_HTTP2_GOAWAY_SESSION', 'EADDRNOTAVAIL',
  UPSTREAM_CONNECT_TIMEOUT, UPSTREAM_POOL_CLOSED,
]);

export function classify(err: Error): FailureKind {
  if (err instanceof AttemptTimeout) return 'timeout';
  if (err instanceof RetryStatus) return 'status';
  const code = (err as { code?: string }).code;
  if (code !== undefined && CONNECT_CODES.has(code)) return 'connect';
  return 'reset';
}
