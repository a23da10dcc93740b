/** The fake Kubernetes API, driven by @kubernetes/client-node itself: lists, watches, 410s, breaks, auth. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, DiscoveryV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { eventually } from './eventually.ts';
import { startFakeKubeApi } from './fake-kube-api.ts';
import type { FakeKubeApi, KubeObject } from './fake-kube-api.ts';

const slice = (name: string, ips: string[], service = 'web'): KubeObject => ({
  kind: 'EndpointSlice',
  metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
});

describe('startFakeKubeApi', () => {
  let api: FakeKubeApi;
  let kc: KubeConfig;
  before(async () => {
    api = await startFakeKubeApi({ token: 'sekret', context: 'east' });
    kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
  });
  after(() => api.close());

  const watchEvents = (path: string, query: Record<string, string | number | boolean>) => {
    const events: { type: string; object: KubeObject & { code?: number } }[] = [];
    let ended: unknown = undefined;
    let done = false;
    const controller = new Watch(kc).watch(path, query, (type, object) => events.push({ type, object }), (err) => {
      ended = err;
      done = true;
    });
    return { events, controller, ended: () => ended, done: () => done };
  };
  const slicesPath = '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices';

  test('lists with the library, with selectors, resourceVersion and bearer auth', async () => {
    api.upsert({ kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ name: 'http', port: 80 }] } });
    api.upsert(slice('web-1', ['10.0.0.1']));
    api.upsert(slice('other-1', ['10.9.0.1'], 'other'));
    const list = await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: 'shop', labelSelector: 'kubernetes.io/service-name=web' });
    assert.deepEqual(list.items.map((s) => s.metadata?.name), ['web-1']);
    assert.equal(list.metadata?.resourceVersion, api.resourceVersion);
    assert.equal(list.items[0]!.endpoints[0]!.addresses[0], '10.0.0.1');
    const services = await kc.makeApiClient(CoreV1Api).listNamespacedService({ namespace: 'shop', fieldSelector: 'metadata.name=web' });
    assert.equal(services.items[0]!.spec?.ports?.[0]?.name, 'http');
    const read = await kc.makeApiClient(CoreV1Api).readNamespacedService({ name: 'web', namespace: 'shop' });
    assert.equal(read.metadata?.name, 'web');
    await assert.rejects(kc.makeApiClient(CoreV1Api).readNamespacedService({ name: 'nope', namespace: 'shop' }), { code: 404 });
    const req = api.requests.find((r) => r.path === slicesPath)!;
    assert.equal(req.headers.authorization, 'Bearer sekret');
    assert.equal(req.query.labelSelector, 'kubernetes.io/service-name=web');
    const anonymous = await fetch(`${api.url}${slicesPath}`);
    assert.equal(anonymous.status, 401);
  });

  test('watches replay from a resourceVersion, stream changes, leave selectors as DELETED, bookmark', async () => {
    const from = api.resourceVersion;
    api.upsert(slice('web-2', ['10.0.0.2']));
    const w = watchEvents(slicesPath, { labelSelector: 'kubernetes.io/service-name=web', resourceVersion: from, allowWatchBookmarks: true });
    await eventually(() => w.events.length === 1 && api.openWatches === 1);
    assert.equal(w.events[0]!.type, 'ADDED');
    assert.equal(w.events[0]!.object.metadata.resourceVersion, api.resourceVersion);
    api.upsert(slice('web-2', ['10.0.0.2', '10.0.0.3']));
    api.upsert(slice('web-2', ['10.0.0.3'], 'other')); // moves out of the selector
    api.remove('EndpointSlice', 'shop', 'web-1');
    api.bookmark();
    await eventually(() => w.events.length === 5);
    assert.deepEqual(w.events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED', 'DELETED', 'BOOKMARK']);
    assert.equal(w.events[4]!.object.metadata.resourceVersion, api.resourceVersion);
    const q = api.requests.at(-1)!.query;
    assert.equal(q.watch, 'true');
    assert.equal(q.allowWatchBookmarks, 'true');
    api.breakWatches();
    await eventually(() => w.done());
  });

  test('a watch without resourceVersion starts with ADDED for what exists; timeoutSeconds ends it', async () => {
    const w = watchEvents(slicesPath, { labelSelector: 'kubernetes.io/service-name=other', timeoutSeconds: 1, allowWatchBookmarks: true });
    await eventually(() => w.done(), { timeoutMs: 4000 });
    assert.deepEqual(w.events.map((e) => `${e.type} ${e.object.metadata.name ?? ''}`), ['ADDED other-1', 'ADDED web-2', 'BOOKMARK ']);
    assert.equal(w.ended(), null);
  });

  test('after compaction a watch from an old version gets an ERROR 410 Expired event, a list HTTP 410', async () => {
    const old = api.resourceVersion;
    api.upsert(slice('web-3', ['10.0.0.4']));
    api.compact();
    const w = watchEvents(slicesPath, { resourceVersion: old });
    await eventually(() => w.done());
    assert.equal(w.events[0]!.type, 'ERROR');
    assert.equal(w.events[0]!.object.code, 410);
    assert.equal((w.events[0]!.object as unknown as { reason: string }).reason, 'Expired');
    const list = await fetch(`${api.url}${slicesPath}?resourceVersion=${old}&resourceVersionMatch=Exact`, { headers: { authorization: 'Bearer sekret' } });
    assert.equal(list.status, 410);
  });

  test('stop refuses connections; start serves the same state on the same address', async () => {
    await api.stop();
    await assert.rejects(fetch(`${api.url}${slicesPath}`));
    await api.start();
    const res = await fetch(`${api.url}${slicesPath}`, { headers: { authorization: 'Bearer sekret' } });
    assert.equal(((await res.json()) as { items: unknown[] }).items.length, 3);
  });
});
