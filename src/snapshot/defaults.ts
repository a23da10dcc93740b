/** The policy a backend gets when no TrafficPolicy targets it (Envoy's defaults where it has one). */
import type { BackendPolicy, CircuitBreakerSpec, HealthCheckSpec, OutlierDetectionSpec } from './types.ts';

export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerSpec = Object.freeze({
  maxConnections: 1024,
  maxPendingRequests: 1024,
  maxRequests: 1024,
  maxRetries: 3,
});

export const DEFAULT_HEALTH_CHECK: Omit<HealthCheckSpec, 'type'> = Object.freeze({
  path: '/',
  host: null,
  expectedStatuses: Object.freeze([Object.freeze([200, 399] as const)]),
  grpcService: '',
  intervalMs: 5000,
  timeoutMs: 1000,
  healthyThreshold: 1,
  unhealthyThreshold: 3,
  port: 0,
});

export const DEFAULT_OUTLIER_DETECTION: OutlierDetectionSpec = Object.freeze({
  consecutive5xx: 5,
  consecutiveGatewayErrors: 0,
  consecutiveConnectFailures: 5,
  intervalMs: 10_000,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
  maxEjectionPercent: 10,
});

export const DEFAULT_BACKEND_POLICY: BackendPolicy = Object.freeze({
  source: null,
  loadBalancer: Object.freeze({ type: 'RoundRobin', hashOn: null, ringSize: 1024 }),
  healthCheck: null,
  outlierDetection: null,
  panicThresholdPercent: 50,
  circuitBreaker: DEFAULT_CIRCUIT_BREAKER,
  retry: null,
  locality: null,
  connectTimeoutMs: 10_000,
});
