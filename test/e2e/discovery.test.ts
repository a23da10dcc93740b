/**
 * One logical service spanning a VM (static address), a Kubernetes cluster (EndpointSlices watched on
 * a fake API server speaking the list/watch protocol) and the Consul catalog (blocking queries on a
 * fake agent), served by a real `ferry run`: traffic reaches every copy, a subset selects the
 * Kubernetes copy by label, changes in Consul and the cluster move traffic, and a source that fails
 * keeps its last endpoints while /status says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEchoServer, type Upstream } from '../support/upstreams.ts';
import { startFakeConsul } from '../support/fake-consul.ts';
import { startFakeKubeApi } from '../support/fake-kube-api.ts';
import { startFerry } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { makeConfigDir, gatewayYaml } from './config.ts';
import { adminJson } from './client.ts';

const slice = (name: string, ups: Upstream[]) => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
  metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': 'productcatalog' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: ups[0].port }],
  endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true }, zone: 'east-a' }],
});

test('one Backend spans a VM, a Kubernetes cluster and Consul, with subsets and failing sources', async (t) => {
  const vm = await startEchoServer({ name: 'vm' });
  const pod = await startEchoServer({ name: 'pod' });
  const consulVm = await startEchoServer({ name: 'consul-vm' });
  const kube = await startFakeKubeApi();
  const consul = await startFakeConsul();
  kube.upsert({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'productcatalog', namespace: 'shop' }, spec: { ports: [{ name: 'http', port: 3550 }] } });
  kube.upsert(slice('productcatalog-a', [pod]));
  consul.setService('productcatalog', [{ id: 'pc-1', address: '127.0.0.1', port: consulVm.port, passing: true, meta: { version: 'v2' } }]);

  const cfg = await makeConfigDir({
    'gateway.yaml': gatewayYaml(),
    'mesh.yaml': `
apiVersion: ferry.dev/v1alpha1
kind: Mesh
metadata: {name: default, namespace: default}
spec:
  clusters: [{name: east, kubeconfig: ${kube.kubeconfigPath}}]
`,
    'backends.yaml': `
apiVersion: ferry.dev/v1alpha1
kind: Backend
metadata: {name: productcatalog, namespace: default}
spec:
  sources:
    - static:
        endpoints: [{address: 127.0.0.1, port: ${vm.port}, labels: {version: v1}}]
        labels: {ferry.dev/platform: vm}
    - kubernetes: {cluster: east, namespace: shop, service: productcatalog, port: http}
    - consul: {address: "${consul.address}", service: productcatalog}
---
apiVersion: ferry.dev/v1alpha1
kind: Backend
metadata: {name: productcatalog-k8s, namespace: default}
spec:
  subsetOf: {name: productcatalog, matchLabels: {ferry.dev/platform: kubernetes}}
`,
    'routes.yaml': `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: catalog, namespace: default}
spec:
  parentRefs: [{name: edge}]
  rules:
    - matches: [{path: {type: PathPrefix, value: /k8s}}]
      backendRefs: [{group: ferry.dev, kind: Backend, name: productcatalog-k8s}]
    - backendRefs: [{group: ferry.dev, kind: Backend, name: productcatalog}]
`,
  });
  const ferry = await startFerry(['--config', cfg.dir, '--bind', 'default/edge/80=127.0.0.1:0', '--admin', '127.0.0.1:0', '--access-log', 'off']);
  t.after(async () => {
    await ferry.stop();
    await kube.close();
    await consul.close();
    await Promise.all([vm.close(), pod.close(), consulVm.close(), cfg.remove()]);
  });
  const ready = await ferry.waitForReady();
  const gw = `http://127.0.0.1:${ready.sockets[0].port}`;
  const admin = `http://127.0.0.1:${ready.admin!.port}`;
  const names = async (path: string, n = 60) => {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${gw}${path}`);
      assert.equal(res.status, 200, await res.clone().text());
      seen.add(((await res.json()) as { name: string }).name);
    }
    return [...seen].sort();
  };

  await eventually(async () => assert.deepEqual(await names('/all'), ['consul-vm', 'pod', 'vm']), { timeoutMs: 10_000, message: 'every copy serves' });
  assert.deepEqual(await names('/k8s/items'), ['pod'], 'the subset selects the Kubernetes copy by label');
  const status = await adminJson(admin, '/status') as { sources: { type: string; state: string; endpoints: number }[] };
  assert.deepEqual(status.sources.map((s) => `${s.type}:${s.state}:${s.endpoints}`).sort(), ['consul:ok:1', 'kubernetes:ok:1', 'static:ok:1']);

  // Consul says the VM instance is failing: it leaves the pool.
  consul.setService('productcatalog', [{ id: 'pc-1', address: '127.0.0.1', port: consulVm.port, passing: false }]);
  await eventually(async () => assert.deepEqual(await names('/all'), ['pod', 'vm']), { timeoutMs: 10_000 });

  // The cluster scales up: a second pod appears through the watch.
  const pod2 = await startEchoServer({ name: 'pod-2' });
  t.after(() => pod2.close());
  kube.upsert(slice('productcatalog-b', [pod2]));
  await eventually(async () => assert.deepEqual(await names('/k8s'), ['pod', 'pod-2']), { timeoutMs: 10_000 });

  // The API server goes away: the last known endpoints keep serving and /status says the source fails.
  await kube.stop();
  kube.breakWatches();
  await eventually(async () => {
    const s = await adminJson(admin, '/status') as { sources: { type: string; state: string; endpoints: number }[] };
    const k = s.sources.find((x) => x.type === 'kubernetes');
    assert.equal(k?.state, 'failing');
    assert.equal(k?.endpoints, 2);
  }, { timeoutMs: 15_000 });
  assert.deepEqual(await names('/k8s'), ['pod', 'pod-2']);
});
