/**
 * Prometheus metrics: subscribes to the data plane's request, upstream and config channels and keeps
 * the `ferry_*` counters, histograms and gauges, plus Node's process metrics. Runs once per request,
 * so labelled children are cached (bounded) and no label string is built per request.
 */
import client from 'prom-client';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  configChannel, requestChannel, upstreamChannel,
  type ConfigEvent, type RequestRecord, type UpstreamEvent,
} from '../snapshot/index.ts';
import { LabelCache, statusLabel } from './label-cache.ts';

export interface MetricsOptions {
  /** Registry to register into; default a new one. */
  registry?: Registry;
  /** Collect prom-client's default process metrics (prefixed `ferry_`); default true. */
  processMetrics?: boolean;
  /** Largest number of cached label tuples per metric; default 10,000. */
  maxCachedChildren?: number;
}

export interface Metrics {
  readonly registry: Registry;
  /** Starts observing the channels; the returned function stops it. */
  subscribe(): () => void;
}

/** Request latency buckets, in seconds: from half a millisecond (a local hop) up to ten seconds. */
export const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Label value for a route or backend that is null (no route matched, no backend chosen). */
const NONE = 'none';

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = opts.registry ?? new client.Registry();
  const registers = [registry];
  const max = opts.maxCachedChildren ?? 10_000;
  if (opts.processMetrics !== false) client.collectDefaultMetrics({ register: registry, prefix: 'ferry_' });

  const requests: Counter<string> = new client.Counter({
    name: 'ferry_requests_total',
    help: 'Downstream requests answered, by gateway, route, backend and status code.',
    labelNames: ['gateway', 'route', 'backend', 'code'],
    registers,
  });
  const requestDuration: Histogram<string> = new client.Histogram({
    name: 'ferry_request_duration_seconds',
    help: 'Time from a request arriving until its response finished.',
    labelNames: ['gateway', 'route', 'backend'],
    buckets: [...LATENCY_BUCKETS],
    registers,
  });
  const upstreamDuration: Histogram<string> = new client.Histogram({
    name: 'ferry_upstream_duration_seconds',
    help: 'Time from sending a request upstream until its response headers arrived (last attempt).',
    labelNames: ['backend'],
    buckets: [...LATENCY_BUCKETS],
    registers,
  });
  const requestErrors: Counter<string> = new client.Counter({
    name: 'ferry_request_errors_total',
    help: 'Requests Ferry answered or failed itself, by reason (no_route, upstream_timeout...).',
    labelNames: ['gateway', 'error'],
    registers,
  });
  const connections: Gauge<string> = new client.Gauge({
    name: 'ferry_upstream_connections_active',
    help: 'Open connections to upstream endpoints.',
    labelNames: ['backend'],
    registers,
  });
  const upstreamEvents: Counter<string> = new client.Counter({
    name: 'ferry_upstream_events_total',
    help: 'Upstream connection pool events other than connect/disconnect (errors, resets, retries, mirrors).',
    labelNames: ['backend', 'type'],
    registers,
  });
  const reloads: Counter<string> = new client.Counter({
    name: 'ferry_config_reloads_total',
    help: 'Configuration loads, by outcome (applied, rejected, unchanged).',
    labelNames: ['outcome'],
    registers,
  });
  const bytes: Counter<string> = new client.Counter({
    name: 'ferry_request_bytes_total',
    help: 'Body bytes received from clients (in) and sent to them (out).',
    labelNames: ['direction'],
    registers,
  });

  const requestChildren = new LabelCache(max, (g, r, b, c) => requests.labels(g, r, b, c));
  const durationChildren = new LabelCache(max, (g, r, b) => requestDuration.labels(g, r, b));
  const upstreamChildren = new LabelCache(max, (b) => upstreamDuration.labels(b));
  const errorChildren = new LabelCache(max, (g, e) => requestErrors.labels(g, e));
  const connectionChildren = new LabelCache(max, (b) => connections.labels(b));
  const eventChildren = new LabelCache(max, (b, t) => upstreamEvents.labels(b, t));
  const bytesIn = bytes.labels('in');
  const bytesOut = bytes.labels('out');

  const onRequest = (message: unknown): void => {
    const r = message as RequestRecord;
    const route = r.route ?? NONE;
    const backend = r.backend ?? NONE;
    requestChildren.get(r.gateway, route, backend, statusLabel(r.status)).inc();
    durationChildren.get(r.gateway, route, backend, '').observe(r.durationMs / 1000);
    if (r.upstreamMs !== null && r.backend !== null) upstreamChildren.get(r.backend, '', '', '').observe(r.upstreamMs / 1000);
    if (r.error !== undefined) errorChildren.get(r.gateway, r.error, '', '').inc();
    if (r.bytesIn > 0) bytesIn.inc(r.bytesIn);
    if (r.bytesOut > 0) bytesOut.inc(r.bytesOut);
  };

  const onUpstream = (message: unknown): void => {
    const e = message as UpstreamEvent;
    if (e.type === 'connect') connectionChildren.get(e.backend, '', '', '').inc();
    else if (e.type === 'disconnect') connectionChildren.get(e.backend, '', '', '').dec();
    else eventChildren.get(e.backend, e.type, '', '').inc();
  };

  const onConfig = (message: unknown): void => {
    reloads.labels((message as ConfigEvent).outcome).inc();
  };

  let subscribed = false;
  return {
    registry,
    subscribe() {
      if (subscribed) throw new Error('metrics are already subscribed');
      subscribed = true;
      requestChannel.subscribe(onRequest);
      upstreamChannel.subscribe(onUpstream);
      configChannel.subscribe(onConfig);
      return () => {
        if (!subscribed) return;
        subscribed = false;
        requestChannel.unsubscribe(onRequest);
        upstreamChannel.unsubscribe(onUpstream);
        configChannel.unsubscribe(onConfig);
      };
    },
  };
}
