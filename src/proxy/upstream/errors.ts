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

const CONNECT_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT', 'ERR_STREAM_REFUSED', 'ERR_HTTP2_GOAWAY_SESSION', 'EADDRNOTAVAIL',
]);

export function classify(err: Error): FailureKind {
  if (err instanceof AttemptTimeout) return 'timeout';
  if (err instanceof RetryStatus) return 'status';
  const code = (err as { code?: string }).code;
  if (code !== undefined && CONNECT_CODES.has(code)) return 'connect';
  return 'reset';
}
