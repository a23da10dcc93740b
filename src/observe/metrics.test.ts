import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configChannel, requestChannel, upstreamChannel } from '../snapshot/index.ts';
import { createMetrics } from './metrics.ts';
import { LabelCache, statusLabel } from './label-cache.ts';
import { requestRecord, upstreamEvent } from '../../test/support/index.ts';

test('request records feed counters and histograms', async (t) => {
  const metrics = createMetrics({ processMetrics: false });
  t.after(metrics.subscribe());
  requestChannel.publish(requestRecord());
  requestChannel.publish(requestRecord({ status: 503, durationMs: 2000, upstreamMs: null, error: 'upstream_timeout' }));
  requestChannel.publish(requestRecord({ route: null, rule: null, backend: null, endpoint: null, status: 404, upstreamMs: null, error: 'no_route', bytesOut: 0 }));
  const text = await metrics.registry.metrics();
  const labels = 'gateway="default/edge",route="HTTPRoute/default/catalog",backend="Service/default/catalog:8080"';
  assert.match(text, new RegExp(`ferry_requests_total\\{${labels},code="200"\\} 1`));
  assert.match(text, new RegExp(`ferry_requests_total\\{${labels},code="503"\\} 1`));
  assert.match(text, /ferry_requests_total\{gateway="default\/edge",route="none",backend="none",code="404"\} 1/);
  assert.match(text, new RegExp(`ferry_request_duration_seconds_bucket\\{${labels},le="0.025"\\} 1`));
  assert.match(text, new RegExp(`ferry_request_duration_seconds_bucket\\{${labels},le="2.5"\\} 2`));
  assert.match(text, new RegExp(`ferry_request_duration_seconds_count\\{${labels}\\} 2`));
  assert.match(text, /ferry_request_duration_seconds_bucket\{[^}]*le="0.0005"\} 0/);
  assert.match(text, /ferry_upstream_duration_seconds_count\{backend="Service\/default\/catalog:8080"\} 1/);
  assert.match(text, /ferry_upstream_duration_seconds_sum\{backend="Service\/default\/catalog:8080"\} 0.0105/);
  assert.match(text, /ferry_request_errors_total\{gateway="default\/edge",error="upstream_timeout"\} 1/);
  assert.match(text, /ferry_request_errors_total\{gateway="default\/edge",error="no_route"\} 1/);
  assert.match(text, /ferry_request_bytes_total\{direction="in"\} 30/);
  assert.match(text, /ferry_request_bytes_total\{direction="out"\} 400/);
  const json = await metrics.registry.getMetricsAsJSON();
  const histogram = json.find((m) => m.name === 'ferry_request_duration_seconds');
  const inf = histogram?.values.find((v) => v.labels.le === '+Inf' && v.labels.route === 'none');
  assert.equal(inf?.value, 1);
});

test('upstream events track active connections and count the rest', async (t) => {
  const metrics = createMetrics({ processMetrics: false });
  t.after(metrics.subscribe());
  for (const type of ['connect', 'connect', 'disconnect', 'reset', 'retry', 'retry', 'mirror_sent'] as const) upstreamChannel.publish(upstreamEvent(type));
  const text = await metrics.registry.metrics();
  assert.match(text, /ferry_upstream_connections_active\{backend="Service\/default\/catalog:8080"\} 1/);
  assert.match(text, /ferry_upstream_events_total\{backend="Service\/default\/catalog:8080",type="retry"\} 2/);
  assert.match(text, /ferry_upstream_events_total\{backend="Service\/default\/catalog:8080",type="reset"\} 1/);
  assert.match(text, /ferry_upstream_events_total\{backend="Service\/default\/catalog:8080",type="mirror_sent"\} 1/);
  assert.doesNotMatch(text, /type="connect"/);
});

test('config events count reloads by outcome; unsubscribing stops counting', async () => {
  const metrics = createMetrics({ processMetrics: false });
  const unsubscribe = metrics.subscribe();
  assert.throws(() => metrics.subscribe(), /already subscribed/);
  configChannel.publish({ outcome: 'applied', hash: 'a', errors: 0 });
  configChannel.publish({ outcome: 'rejected', hash: 'a', errors: 2 });
  unsubscribe();
  configChannel.publish({ outcome: 'applied', hash: 'b', errors: 0 });
  const text = await metrics.registry.metrics();
  assert.match(text, /ferry_config_reloads_total\{outcome="applied"\} 1/);
  assert.match(text, /ferry_config_reloads_total\{outcome="rejected"\} 1/);
});

test('process metrics are exported with the ferry_ prefix', async () => {
  const metrics = createMetrics();
  const text = await metrics.registry.metrics();
  assert.match(text, /^ferry_process_cpu_user_seconds_total /m);
  assert.match(text, /^ferry_nodejs_eventloop_lag_seconds /m);
});

test('label cache reuses cells and sends tuples past the bound to one overflow cell', () => {
  let created = 0;
  const cache = new LabelCache(3, (a, b) => ({ a, b, n: ++created }));
  const first = cache.get('x', 'y', '', '');
  assert.equal(cache.get('x', 'y', '', ''), first);
  assert.equal(created, 1);
  for (let i = 0; i < 100; i++) cache.get('x', String(i), '', '');
  assert.equal(cache.all().length, 4, 'three tuples and the overflow cell');
  assert.equal(cache.get('x', '99', '', '').a, 'overflow');
  assert.equal(cache.get('x', 'y', '', ''), first, 'existing tuples keep their cell');
  assert.equal(statusLabel(204), '204');
  assert.equal(statusLabel(42), 'other');
  assert.equal(statusLabel(999), 'other');
});

test('series past maxSeries are counted under overflow labels', async (t) => {
  const metrics = createMetrics({ processMetrics: false, maxSeries: 2 });
  t.after(metrics.subscribe());
  for (const route of ['a', 'b', 'c', 'd']) requestChannel.publish(requestRecord({ route }));
  const text = await metrics.registry.metrics();
  assert.match(text, /ferry_requests_total\{gateway="default\/edge",route="a",[^}]*\} 1/);
  assert.match(text, /ferry_requests_total\{gateway="overflow",route="overflow",backend="overflow",code="overflow"\} 2/);
});

test('resetting the registry zeroes the series', async (t) => {
  const metrics = createMetrics({ processMetrics: false });
  t.after(metrics.subscribe());
  requestChannel.publish(requestRecord());
  metrics.registry.resetMetrics();
  requestChannel.publish(requestRecord());
  const text = await metrics.registry.metrics();
  assert.match(text, /ferry_requests_total\{[^}]*code="200"\} 1/);
  assert.match(text, /ferry_request_duration_seconds_count\{[^}]*\} 1/);
});

test('endpoint labels say which platform and cluster answered', async () => {
  const metrics = createMetrics({ processMetrics: false });
  const stop = metrics.subscribe();
  try {
    requestChannel.publish(requestRecord({ backend: 'Backend/default/catalog', status: 200, endpointLabels: { 'ferry.dev/platform': 'vm' } }));
    requestChannel.publish(requestRecord({ backend: 'Backend/default/catalog', status: 200, endpointLabels: { 'ferry.dev/platform': 'kubernetes', 'ferry.dev/cluster': 'east' } }));
    requestChannel.publish(requestRecord({ backend: 'Backend/default/catalog', status: 503, endpointLabels: null }));
    const text = await metrics.registry.metrics();
    assert.match(text, /ferry_endpoint_requests_total\{backend="Backend\/default\/catalog",platform="vm",cluster="none",code="200"\} 1/);
    assert.match(text, /ferry_endpoint_requests_total\{backend="Backend\/default\/catalog",platform="kubernetes",cluster="east",code="200"\} 1/);
    assert.doesNotMatch(text, /ferry_endpoint_requests_total\{[^}]*code="503"/);
  } finally {
    stop();
  }
});
