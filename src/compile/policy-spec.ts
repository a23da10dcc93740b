/**
 * A TrafficPolicy's spec → the snapshot's BackendPolicy with every default filled in. Pure mapping:
 * the spec was validated when it was read, so durations parse and enums are known. A `healthCheck`
 * or `outlierDetection` block turns the feature on with its defaults for omitted fields; without the
 * block it stays off.
 */
import { parseDuration } from '../lib/index.ts';
import { statusRange, type TrafficPolicySpec } from '../resources/index.ts';
import {
  DEFAULT_BACKEND_POLICY,
  DEFAULT_CIRCUIT_BREAKER,
  DEFAULT_HEALTH_CHECK,
  DEFAULT_OUTLIER_DETECTION,
  type BackendPolicy,
  type BackendRetrySpec,
  type HashOn,
  type HealthCheckSpec,
  type LoadBalancerSpec,
  type LocalitySpec,
  type OutlierDetectionSpec,
} from '../snapshot/index.ts';

/** Backend retry defaults (with a `retry` block): Envoy's one retry, 25ms backoff, a 20% budget. */
export const DEFAULT_BACKEND_RETRY = Object.freeze({
  attempts: 1,
  retryOn: Object.freeze(['connect-failure', 'reset']),
  backoffMs: 25,
  budgetPercent: 20,
  budgetMinConcurrency: 3,
});
export const DEFAULT_MIN_HEALTHY_PERCENT = 70;

const ms = (text: string | undefined, fallback: number): number => (text === undefined ? fallback : parseDuration(text));

function hashOn(h: NonNullable<NonNullable<TrafficPolicySpec['loadBalancer']>['hashOn']>): HashOn {
  if (h.cookie) return { type: 'Cookie', name: h.cookie.name, ttlSeconds: ms(h.cookie.ttl, 0) / 1000, path: h.cookie.path ?? '/' };
  if (h.header) return { type: 'Header', name: h.header.name.toLowerCase() };
  if (h.queryParameter) return { type: 'QueryParameter', name: h.queryParameter.name };
  return { type: 'SourceIP' };
}

function loadBalancer(lb: TrafficPolicySpec['loadBalancer']): LoadBalancerSpec {
  const d = DEFAULT_BACKEND_POLICY.loadBalancer;
  if (!lb) return d;
  return { type: lb.type ?? d.type, hashOn: lb.hashOn ? hashOn(lb.hashOn) : null, ringSize: lb.ringSize ?? d.ringSize };
}

function healthCheck(h: TrafficPolicySpec['healthCheck']): HealthCheckSpec | null {
  if (!h) return null;
  const d = DEFAULT_HEALTH_CHECK;
  const statuses = h.http?.expectedStatuses?.map((s) => statusRange(s) as readonly [number, number]);
  return {
    type: h.http ? 'HTTP' : h.grpc ? 'GRPC' : 'TCP',
    path: h.http?.path ?? d.path,
    host: h.http?.host ?? d.host,
    expectedStatuses: statuses ?? d.expectedStatuses,
    grpcService: h.grpc?.service ?? d.grpcService,
    intervalMs: ms(h.interval, d.intervalMs),
    timeoutMs: ms(h.timeout, d.timeoutMs),
    healthyThreshold: h.healthyThreshold ?? d.healthyThreshold,
    unhealthyThreshold: h.unhealthyThreshold ?? d.unhealthyThreshold,
    port: h.port ?? d.port,
  };
}

function outlierDetection(o: TrafficPolicySpec['outlierDetection']): OutlierDetectionSpec | null {
  if (!o) return null;
  const d = DEFAULT_OUTLIER_DETECTION;
  return {
    consecutive5xx: o.consecutive5xx ?? d.consecutive5xx,
    consecutiveGatewayErrors: o.consecutiveGatewayErrors ?? d.consecutiveGatewayErrors,
    consecutiveConnectFailures: o.consecutiveConnectFailures ?? d.consecutiveConnectFailures,
    intervalMs: ms(o.interval, d.intervalMs),
    baseEjectionMs: ms(o.baseEjectionTime, d.baseEjectionMs),
    maxEjectionMs: ms(o.maxEjectionTime, Math.max(d.maxEjectionMs, ms(o.baseEjectionTime, d.baseEjectionMs))),
    maxEjectionPercent: o.maxEjectionPercent ?? d.maxEjectionPercent,
  };
}

function retry(r: TrafficPolicySpec['retry']): BackendRetrySpec | null {
  if (!r) return null;
  const d = DEFAULT_BACKEND_RETRY;
  const attempts = r.attempts ?? d.attempts;
  if (attempts === 0) return null;
  const perTry = ms(r.perTryTimeout, 0);
  const codes = [...new Set(r.retriableStatusCodes ?? [])].sort((a, b) => a - b);
  const retryOn = r.retryOn ?? (codes.length > 0 ? [...d.retryOn, 'retriable-status-codes'] : d.retryOn);
  return {
    attempts,
    perTryTimeoutMs: perTry > 0 ? perTry : null,
    retryOn: [...retryOn],
    retriableStatusCodes: codes,
    backoffMs: ms(r.backoff, d.backoffMs),
    budgetPercent: r.budget?.percent ?? d.budgetPercent,
    budgetMinConcurrency: r.budget?.minConcurrency ?? d.budgetMinConcurrency,
    retryNonIdempotent: r.retryNonIdempotent ?? false,
  };
}

function locality(l: TrafficPolicySpec['locality']): LocalitySpec | null {
  if (!l) return null;
  return { priorities: l.priorities.map((p) => p.matchLabels), minHealthyPercent: l.minHealthyPercent ?? DEFAULT_MIN_HEALTHY_PERCENT };
}

/** The policy a backend gets from `spec` (`source` is the TrafficPolicy's `namespace/name`). */
export function backendPolicy(source: string, spec: TrafficPolicySpec): BackendPolicy {
  const cb = spec.circuitBreaker;
  return {
    source,
    loadBalancer: loadBalancer(spec.loadBalancer),
    healthCheck: healthCheck(spec.healthCheck),
    outlierDetection: outlierDetection(spec.outlierDetection),
    panicThresholdPercent: spec.panicThreshold ?? DEFAULT_BACKEND_POLICY.panicThresholdPercent,
    circuitBreaker: {
      maxConnections: cb?.maxConnections ?? DEFAULT_CIRCUIT_BREAKER.maxConnections,
      maxPendingRequests: cb?.maxPendingRequests ?? DEFAULT_CIRCUIT_BREAKER.maxPendingRequests,
      maxRequests: cb?.maxRequests ?? DEFAULT_CIRCUIT_BREAKER.maxRequests,
      maxRetries: cb?.maxRetries ?? DEFAULT_CIRCUIT_BREAKER.maxRetries,
    },
    retry: retry(spec.retry),
    locality: locality(spec.locality),
    connectTimeoutMs: ms(spec.connectTimeout, DEFAULT_BACKEND_POLICY.connectTimeoutMs),
  };
}
