/** Observers of the data plane: Prometheus metrics, the access log, and the process logger. */
export { createMetrics, LATENCY_BUCKETS } from './metrics.ts';
export type { Metrics, MetricsOptions } from './metrics.ts';
export { createAccessLog, accessLogEntry } from './access-log.ts';
export type { AccessLog, AccessLogOptions, AccessLogEntry } from './access-log.ts';
export { createLogger, LOG_LEVELS } from './logger.ts';
export type { Logger, LoggerOptions } from './logger.ts';
