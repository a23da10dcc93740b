/**
 * Prometheus metrics: subscribes to the data plane's request, upstream and config channels and keeps
 * the `ferry_*` counters, histograms and gauges, plus Node's process metrics. Runs once per request,
 * so per-request series are plain numbers in bounded cells (series.ts): no label string per request.
 */
import client from 'prom-client';
import type { Registry } from 'prom-client';
import {
  configChannel, requestChannel, upstreamChannel, LABEL_CLUSTER, LABEL_PLATFORM,
  type ConfigEvent, type RequestRecord, type UpstreamEvent,
} from '../snapshot/index.ts';
import { statusLabel } from './label-cache.ts';
import { CounterSeries, GaugeSeries, HistogramSeries } from './series.ts';

export interface MetricsOptions {
  /** Registry to register into; default a new one. */
  registry?: Registry;
  /** Collect prom-client's default process metrics (prefixed `ferry_`); default true. */
  processMetrics?: boolean;
  /** Largest number of label tuples per metric; past it new ones are counted as `overflow`. Default 10,000. */
  maxSeries?: number;
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
  const max = opts.maxSeries ?? 10_000;
  if (opts.processMetrics !== false) client.collectDefaultMetrics({ register: registry, prefix: 'ferry_' });

  const series = { registers, maxSeries: max };
  const requests = new CounterSeries({
    ...series,
    name: 'ferry_requests_total',
    help: 'Downstream requests answered, by gateway, route, backend and status code.',
    labelNames: ['gateway', 'route', 'backend', 'code'],
  });
  const endpointRequests = new CounterSeries({
    ...series,
    name: 'ferry_endpoint_requests_total',
    help: 'Requests answered by upstream endpoints, by backend and the endpoint\'s platform (vm, kubernetes) and cluster: where the traffic goes during a migration.',
    labelNames: ['backend', 'platform', 'cluster', 'code'],
  });
  const requestDuration = new HistogramSeries({
    ...series,
    name: 'ferry_request_duration_seconds',
    help: 'Time from a request arriving until its response finished.',
    labelNames: ['gateway', 'route', 'backend'],
    buckets: LATENCY_BUCKETS,
  });
  const upstreamDuration = new HistogramSeries({
    ...series,
    name: 'ferry_upstream_duration_seconds',
    help: 'Time from sending a request upstream until its response headers arrived (last attempt).',
    labelNames: ['backend'],
    buckets: LATENCY_BUCKETS,
  });
  const requestErrors = new CounterSeries({
    ...series,
    name: 'ferry_request_errors_total',
    help: 'Requests Ferry answered or failed itself, by reason (no_route, upstream_timeout...).',
    labelNames: ['gateway', 'error'],
  });
  const connections = new GaugeSeries({
    ...series,
    name: 'ferry_upstream_connections_active',
    help: 'Open connections to upstream endpoints.',
    labelNames: ['backend'],
  });
  const upstreamEvents = new CounterSeries({
    ...series,
    name: 'ferry_upstream_events_total',
    help: 'Upstream connection pool events other than connect/disconnect (errors, resets, retries, mirrors).',
    labelNames: ['backend', 'type'],
  });
  const bytes = new CounterSeries({
    ...series,
    name: 'ferry_request_bytes_total',
    help: 'Body bytes received from clients (in) and sent to them (out).',
    labelNames: ['direction'],
  });
  // Reloads are rare: prom-client's own counter is fine here.
  const reloads = new client.Counter({
    name: 'ferry_config_reloads_total',
    help: 'Configuration loads, by outcome (applied, rejected, unchanged).',
    labelNames: ['outcome'],
    registers,
  });

  const bytesIn = bytes.cell('in');
  const bytesOut = bytes.cell('out');

  const onRequest = (message: unknown): void => {
    const r = message as RequestRecord;
    const route = r.route ?? NONE;
    const backend = r.backend ?? NONE;
    requests.cell(r.gateway, route, backend, statusLabel(r.status)).value++;
    requestDuration.record(requestDuration.cell(r.gateway, route, backend), r.durationMs / 1000);
    if (r.upstreamMs !== null && r.backend !== null) upstreamDuration.record(upstreamDuration.cell(r.backend), r.upstreamMs / 1000);
    if (r.error !== undefined) requestErrors.cell(r.gateway, r.error).value++;
    const labels = r.endpointLabels;
    if (labels && r.backend !== null) {
      endpointRequests.cell(
        r.backend, labels[LABEL_PLATFORM] ?? NONE, labels[LABEL_CLUSTER] ?? NONE, statusLabel(r.status),
      ).value++;
    }
    bytesIn.value += r.bytesIn;
    bytesOut.value += r.bytesOut;
  };

  const onUpstream = (message: unknown): void => {
    const e = message as UpstreamEvent;
    if (e.type === 'connect') connections.cell(e.backend).value++;
    else if (e.type === 'disconnect') connections.cell(e.backend).value--;
    else upstreamEvents.cell(e.backend, e.type).value++;
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
