/**
 * The retry policy an exchange follows: the route rule's `retry` when it has one (Gateway API
 * semantics, unchanged), else the backend's TrafficPolicy retry. Both compile to the same shape so
 * the request path checks a few booleans and one table lookup per status.
 */
import type { BackendRetrySpec, RetrySpec } from '../../snapshot/index.ts';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Methods that may be sent twice (RFC 9110 §9.2.2). */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly attempts: number;
  /** First backoff; doubles per retry, jittered. */
  readonly backoffMs: number;
  /** Per-attempt timeout (backend policy); 0 = none. The rule's backendRequestMs wins when set. */
  readonly perTryTimeoutMs: number;
  /** Indexed by status: 1 when that status is retried. */
  readonly statuses: Uint8Array;
  readonly onConnect: boolean;
  readonly onReset: boolean;
  readonly onTimeout: boolean;
  /** Retry POST/PATCH whatever the failure; otherwise only after a connect failure. */
  readonly nonIdempotent: boolean;
  /** Retry budget: retries in flight ≤ max(min, percent% of active attempts); percent < 0 = no budget. */
  readonly budgetPercent: number;
  readonly budgetMin: number;
}

function statusTable(codes: Iterable<number>): Uint8Array {
  const t = new Uint8Array(600);
  for (const c of codes) if (c >= 100 && c < 600) t[c] = 1;
  return t;
}

/** A rule's retry: connect failures, resets, attempt timeouts and the listed codes. */
export function ruleRetryPolicy(spec: RetrySpec | undefined): RetryPolicy | null {
  if (spec === undefined || !(spec.attempts > 0)) return null;
  return {
    attempts: spec.attempts,
    backoffMs: spec.backoffMs,
    perTryTimeoutMs: 0,
    statuses: statusTable(spec.codes),
    onConnect: true,
    onReset: true,
    onTimeout: true,
    nonIdempotent: false,
    budgetPercent: -1,
    budgetMin: 0,
  };
}

/**
 * A backend's retry. `retryOn`: connect-failure; reset (also attempt timeouts); 5xx (every 5xx, and
 * connect failures, resets and timeouts); gateway-error (502/503/504, and connect failures, resets
 * and timeouts, which Ferry answers with 502/504 itself); retriable-status-codes (the listed codes).
 */
export function backendRetryPolicy(spec: BackendRetrySpec | null): RetryPolicy | null {
  if (spec === null || !(spec.attempts > 0)) return null;
  const on = new Set(spec.retryOn);
  const codes = new Set<number>();
  if (on.has('5xx')) for (let c = 500; c < 600; c++) codes.add(c);
  if (on.has('gateway-error')) { codes.add(502); codes.add(503); codes.add(504); }
  if (on.has('retriable-status-codes')) for (const c of spec.retriableStatusCodes) codes.add(c);
  return {
    attempts: spec.attempts,
    backoffMs: spec.backoffMs,
    perTryTimeoutMs: spec.perTryTimeoutMs ?? 0,
    statuses: statusTable(codes),
    onConnect: on.has('connect-failure') || on.has('5xx') || on.has('gateway-error'),
    onReset: on.has('reset') || on.has('5xx') || on.has('gateway-error'),
    onTimeout: on.has('reset') || on.has('5xx') || on.has('gateway-error'),
    nonIdempotent: spec.retryNonIdempotent,
    budgetPercent: spec.budgetPercent,
    budgetMin: spec.budgetMinConcurrency,
  };
}
