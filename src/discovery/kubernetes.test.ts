/** The Kubernetes provider against the fake API server: the provider contract, then EndpointSlice specifics through the manager. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ClusterConnection, DiscoverySource } from '../snapshot/index.ts';
import { eventually } from '../../test/support/eventually.ts';
import { startFakeKubeApi } from '../../test/support/fake-kube-api.ts';
import type { FakeKubeApi, KubeObject } from '../../test/support/fake-kube-api.ts';
import { createDiscoveryManager, resolveBackendEndpoints } from './index.ts';
import type { DiscoveryManager } from './index.ts';
import { createKubernetesProvider, loadKubeConfig, toEndpoints } from './kubernetes.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';
import { providerContract } from './provider.contract.ts';

type KubeSource = Extract<DiscoverySource, { type: 'kubernetes' }>;

const service = (ports = [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'admin', port: 9000, targetPort: 9090 }]): KubeObject => ({
  kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports },
});

interface SliceEndpoint { ip: string; ready?: boolean; terminating?: boolean; zone?: string; node?: string }
const slice = (name: string, endpoints: SliceEndpoint[], extra: { version?: string; port?: number } = {}): KubeObject => ({
  kind: 'EndpointSlice',
  metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web', ...(extra.version ? { version: extra.version } : {}) } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: extra.port ?? 8080, protocol: 'TCP' }, { name: 'admin', port: 9090, protocol: 'TCP' }],
  endpoints: endpoints.map((e) => ({
    addresses: [e.ip],
    conditions: { ...(e.ready === undefined ? {} : { ready: e.ready }), ...(e.terminating ? { terminating: true } : {}) },
    ...(e.zone ? { zone: e.zone } : {}),
    ...(e.node ? { nodeName: e.node } : {}),
  })),
});

providerContract({
  name: 'kubernetes',
  updates: true,
  async world(initial) {
    const api = await startFakeKubeApi();
    api.upsert(service());
    const publish = async (list: readonly { address: string; port: number }[]) => {
      api.upsert(slice('web-contract', list.map((a) => ({ ip: a.address })), { port: list[0]?.port ?? 8080 }));
    };
    await publish(initial);
    const cluster: ClusterConnection = { name: 'east', kubeconfig: api.kubeconfigPath, labels: {} };
    const source: KubeSource = { type: 'kubernetes', key: 'k8s/east/shop/web', cluster: 'east', namespace: 'shop', service: 'web', port: 'http', labels: {} };
    return {
      publish,
      provider: (ctx) => createKubernetesProvider(source, cluster, loadKubeConfig, ctx, { watchTimeoutSeconds: 60 }),
      fail: () => api.stop(),
      recover: () => api.start(),
      idle: () => api.openWatches === 0,
      close: () => api.close(),
    };
  },
});

describe('kubernetes discovery', () => {
  let east: FakeKubeApi;
  let west: FakeKubeApi;
  let clock: ManualClock;
  let manager: DiscoveryManager;
  let clusters: ClusterConnection[];
  const KEY = 'k8s/east/shop/web';
  const source = (extra: Partial<KubeSource> = {}): KubeSource =>
    ({ type: 'kubernetes', key: KEY, cluster: 'east', namespace: 'shop', service: 'web', port: 'http', labels: { app: 'web' }, ...extra });
  const addrs = (key = KEY) => (manager.endpoints(key) ?? []).map((e) => `${e.address}:${e.port}${e.ready ? '' : ' (not ready)'}`);
  const status = (key = KEY) => manager.status().find((s) => s.key === key)!;
  const sliceRequests = (api: FakeKubeApi, watch: boolean) =>
    api.requests.filter((r) => r.path.endsWith('/endpointslices') && (r.query.watch === 'true') === watch);

  before(async () => {
    east = await startFakeKubeApi({ token: 'east-token', context: 'east-admin' });
    west = await startFakeKubeApi();
    clusters = [
      { name: 'east', kubeconfig: east.kubeconfigPath, context: 'east-admin', labels: { 'topology.kubernetes.io/region': 'us-east' } },
      { name: 'west', kubeconfig: west.kubeconfigPath, labels: { 'topology.kubernetes.io/region': 'us-west' } },
    ];
    for (const api of [east, west]) api.upsert(service());
  });
  after(async () => {
    await manager?.close();
    await east.close();
    await west.close();
  });

  const run = (...sources: KubeSource[]) => {
    clock = new ManualClock();
    manager = createDiscoveryManager({ clusters, onChange() {}, clock, random: () => 0.5, kubernetes: { watchTimeoutSeconds: 60 } });
    manager.sync({ clusters, sources, backends: {} });
  };

  test('endpoints from slices: ports mapped through the Service, readiness and labels', async () => {
    east.upsert(slice('web-a', [
      { ip: '10.0.0.1', zone: 'us-east-1a', node: 'node-1' },
      { ip: '10.0.0.2', ready: false },
      { ip: '10.0.0.3', ready: true, terminating: true },
    ], { version: 'v2' }));
    east.upsert(slice('web-b', [{ ip: '10.0.0.1' }, { ip: '10.0.0.4', ready: true }]));
    run(source(), source({ key: 'by-number', port: 9000 }));
    await eventually(() => status().state === 'ok' && status('by-number').state === 'ok');
    assert.deepEqual(addrs(), ['10.0.0.1:8080', '10.0.0.2:8080 (not ready)', '10.0.0.3:8080 (not ready)', '10.0.0.4:8080']);
    assert.deepEqual(addrs('by-number'), ['10.0.0.1:9090', '10.0.0.2:9090 (not ready)', '10.0.0.3:9090 (not ready)', '10.0.0.4:9090']);
    assert.deepEqual(manager.endpoints(KEY)![0]!.labels, {
      'ferry.dev/platform': 'kubernetes', 'ferry.dev/cluster': 'east', app: 'web', 'topology.kubernetes.io/region': 'us-east',
      'topology.kubernetes.io/zone': 'us-east-1a', 'kubernetes.io/hostname': 'node-1', version: 'v2',
    });
    const req = sliceRequests(east, false).at(-1)!;
    assert.equal(req.query.labelSelector, 'kubernetes.io/service-name=web');
    assert.equal(req.headers.authorization, 'Bearer east-token');
    await eventually(() => sliceRequests(east, true).length > 0); // the watch opens after the list has answered
    const watch = sliceRequests(east, true).at(-1)!;
    assert.equal(watch.query.allowWatchBookmarks, 'true');
    assert.ok(Number(watch.query.resourceVersion) > 0);
  });

  test('scale up and down through slice updates', async () => {
    east.remove('EndpointSlice', 'shop', 'web-b');
    east.upsert(slice('web-a', [{ ip: '10.0.0.1' }, { ip: '10.0.0.5' }, { ip: '10.0.0.6' }]));
    await eventually(() => addrs().join() === '10.0.0.1:8080,10.0.0.5:8080,10.0.0.6:8080');
    east.upsert(slice('web-a', [{ ip: '10.0.0.6' }]));
    await eventually(() => addrs().join() === '10.0.0.6:8080');
  });

  test('a watch broken mid-stream resumes from the last resourceVersion without relisting', async () => {
    // Two sources (by port name and by number), each watching the Service and its slices.
    await eventually(() => east.openWatches === 4);
    east.bookmark();
    const lastRv = east.resourceVersion;
    const lists = sliceRequests(east, false).length;
    const watches = sliceRequests(east, true).length;
    east.breakWatches();
    await eventually(() => {
      clock.advance(1000);
      return sliceRequests(east, true).length >= watches + 2 && east.openWatches === 4;
    });
    assert.equal(sliceRequests(east, true).at(-1)!.query.resourceVersion, lastRv);
    assert.equal(sliceRequests(east, false).length, lists, 'no relist');
    east.upsert(slice('web-a', [{ ip: '10.0.0.6' }, { ip: '10.0.0.7' }]));
    await eventually(() => addrs().join() === '10.0.0.6:8080,10.0.0.7:8080');
    await eventually(() => status().state === 'ok');
  });

  test('API down: last endpoints kept and failing; compacted meanwhile: 410 Expired, relist, right state', async () => {
    await east.stop();
    await eventually(() => {
      clock.advance(1000);
      return status().state === 'failing' && status().consecutiveFailures >= 2;
    });
    assert.deepEqual(addrs(), ['10.0.0.6:8080', '10.0.0.7:8080']);
    const lists = sliceRequests(east, false).length;
    const staleRv = east.resourceVersion;
    east.upsert(slice('web-a', [{ ip: '10.0.0.8' }]));
    east.remove('EndpointSlice', 'shop', 'web-a');
    east.upsert(slice('web-c', [{ ip: '10.0.0.9' }]));
    east.compact();
    await east.start();
    await eventually(() => {
      clock.advance(1000);
      return addrs().join() === '10.0.0.9:8080' && status().state === 'ok';
    });
    const rewatch = sliceRequests(east, true).find((r) => r.query.resourceVersion === staleRv);
    assert.ok(rewatch, 'resumed from the stale resourceVersion first');
    assert.ok(sliceRequests(east, false).length > lists, 'relisted after 410');
  });

  test('two clusters: endpoints labelled per cluster, merged per Backend', async () => {
    west.upsert(slice('web-w', [{ ip: '10.1.0.1', zone: 'us-west-2a' }]));
    await manager.close();
    const westKey = 'k8s/west/shop/web';
    run(source(), source({ key: westKey, cluster: 'west' }));
    await eventually(() => status().state === 'ok' && status(westKey).state === 'ok');
    const plan = {
      clusters, sources: [], backends: {
        'Backend/shop/web': { sources: [KEY, westKey], matchLabels: {} },
        'Backend/shop/web-west': { sources: [KEY, westKey], matchLabels: { 'ferry.dev/cluster': 'west' } },
      },
    };
    const merged = resolveBackendEndpoints(plan, (k) => manager.endpoints(k));
    assert.deepEqual(merged.get('Backend/shop/web')!.map((e) => `${e.address} ${e.labels['ferry.dev/cluster']} ${e.labels['topology.kubernetes.io/region']}`),
      ['10.0.0.9 east us-east', '10.1.0.1 west us-west']);
    assert.deepEqual(merged.get('Backend/shop/web-west')!.map((e) => e.address), ['10.1.0.1']);
  });

  test('a changed cluster connection restarts its sources; a bad context is a failure', async () => {
    const relabelled = clusters.map((c) => (c.name === 'west' ? { ...c, labels: { 'topology.kubernetes.io/region': 'eu-west' } } : c));
    const westKey = 'k8s/west/shop/web';
    manager.sync({ clusters: relabelled, sources: [source(), source({ key: westKey, cluster: 'west' })], backends: {} });
    await eventually(() => manager.endpoints(westKey)?.[0]?.labels['topology.kubernetes.io/region'] === 'eu-west');
    const broken = relabelled.map((c) => (c.name === 'east' ? { ...c, context: 'missing' } : c));
    manager.sync({ clusters: broken, sources: [source(), source({ key: westKey, cluster: 'west' })], backends: {} });
    await eventually(() => status().state === 'failing');
    assert.match(status().lastError!, /no context "missing"/);
    assert.deepEqual(addrs(), ['10.0.0.9:8080'], 'the last endpoints are kept');
    manager.sync({ clusters: broken, sources: [source({ cluster: 'nowhere' })], backends: {} });
    await eventually(() => status().lastError === 'unknown cluster "nowhere"');
  });
});

test('toEndpoints: without a Service, ports match slice ports by name or number; FQDN slices are skipped', () => {
  const cluster: ClusterConnection = { name: 'east', labels: {} };
  const slices = [
    { ...slice('web-a', [{ ip: '10.0.0.1' }]), metadata: { name: 'web-a' } },
    { kind: 'EndpointSlice', metadata: { name: 'web-f' }, addressType: 'FQDN', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['web.example.com'] }] },
  ] as unknown as Parameters<typeof toEndpoints>[3];
  const base = { type: 'kubernetes', key: 'k', cluster: 'east', namespace: 'shop', service: 'web', labels: {} } as const;
  assert.deepEqual(toEndpoints({ ...base, port: 'admin' }, cluster, [], slices).map((e) => `${e.address}:${e.port}`), ['10.0.0.1:9090']);
  assert.deepEqual(toEndpoints({ ...base, port: 8080 }, cluster, [], slices).map((e) => `${e.address}:${e.port}`), ['10.0.0.1:8080']);
  const svc = service([{ name: 'http', port: 80, targetPort: 8080 }]) as unknown as Parameters<typeof toEndpoints>[2][number];
  assert.deepEqual(toEndpoints({ ...base, port: 'grpc' }, cluster, [svc], slices), [], 'a port the Service does not have');
});
