/**
 * The Kubernetes provider: a Service's EndpointSlices (`discovery.k8s.io/v1`, selected by
 * `kubernetes.io/service-name`) in one cluster, plus the Service itself to map the source's port (a
 * Service port name or number) to the slices' port name. Both are listed and watched (kube-watch.ts).
 *
 * Endpoints: the first address of each IPv4/IPv6 slice endpoint (FQDN slices are skipped), with the
 * slice port of that name; ready unless `conditions.ready` is false or the endpoint is terminating;
 * an address in several slices counts once (ready wins). Labels, later entries winning:
 * `ferry.dev/platform: kubernetes`, the source's labels, the cluster connection's labels, `version`
 * from the slice's labels, `topology.kubernetes.io/zone` and `kubernetes.io/hostname` from the
 * endpoint, and `ferry.dev/cluster`. Without a Service, a port name is matched against slice port
 * names directly and a number against slice port numbers.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { ClusterConnection, DiscoverySource, Endpoint } from '../snapshot/index.ts';
import { LABEL_CLUSTER, LABEL_PLATFORM, LABEL_VERSION, LABEL_ZONE } from '../snapshot/index.ts';
import { Backoff } from './backoff.ts';
import type { KubeList, KubeObject } from './kube-watch.ts';
import { WatchedList } from './kube-watch.ts';
import { endpointKey, mergeLabels, sortEndpoints } from './labels.ts';
import type { Provider, ProviderContext, ProviderListener } from './provider.ts';
import { toError } from './provider.ts';
import { Sleeper } from './sleep.ts';

export type KubernetesSource = Extract<DiscoverySource, { type: 'kubernetes' }>;

export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';

export interface KubernetesOptions {
  /** Server-side timeout of each watch request (default: 5 to 10 minutes at random, as client-go). */
  readonly watchTimeoutSeconds?: number;
}

type KubernetesClient = typeof import('@kubernetes/client-node');
let client: KubernetesClient | undefined;

/**
 * The client library, loaded on first use: it adds about 50 MiB to the process, which a gateway
 * without any Kubernetes source should not carry.
 */
export async function kubernetesClient(): Promise<KubernetesClient> {
  client ??= await import('@kubernetes/client-node');
  return client;
}

/**
 * A cluster connection's KubeConfig: its kubeconfig file and context, or the pod's service account.
 * Providers call it after `kubernetesClient()` has loaded the library.
 */
export function loadKubeConfig(cluster: ClusterConnection): KubeConfig {
  if (!client) throw new Error('the Kubernetes client library is not loaded yet (await kubernetesClient() first)');
  const kc = new client.KubeConfig();
  if (cluster.kubeconfig) kc.loadFromFile(cluster.kubeconfig);
  else if (cluster.inCluster) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (cluster.context) {
    if (!kc.getContextObject(cluster.context)) throw new Error(`cluster ${cluster.name}: no context "${cluster.context}" in its kubeconfig`);
    kc.setCurrentContext(cluster.context);
  }
  if (!kc.getCurrentCluster()) throw new Error(`cluster ${cluster.name}: its kubeconfig has no current cluster`);
  return kc;
}

export function createKubernetesProvider(
  source: KubernetesSource,
  cluster: ClusterConnection,
  kubeConfig: (cluster: ClusterConnection) => KubeConfig,
  ctx: ProviderContext,
  opts: KubernetesOptions = {},
): Provider {
  const sleeper = new Sleeper(ctx.clock);
  const timeoutSeconds = () => opts.watchTimeoutSeconds ?? Math.floor(300 + ctx.random() * 300);
  let lists: WatchedList[] = [];
  let running: Promise<void> | undefined;

  async function run(listener: ProviderListener): Promise<void> {
    // Loading the kubeconfig can fail (file not there yet, bad context): retry like any failure.
    const backoff = new Backoff(ctx.random);
    const k8s = await kubernetesClient();
    let kc: KubeConfig | undefined;
    while (!kc && !sleeper.closed) {
      try {
        kc = kubeConfig(cluster);
      } catch (err) {
        listener.error(toError(err));
        await sleeper.sleep(backoff.next());
      }
    }
    if (!kc || sleeper.closed) return;
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
    const watch = new k8s.Watch(kc);
    const ns = encodeURIComponent(source.namespace);
    const emit = () => {
      if (!sleeper.closed && services.healthy && slices.healthy) listener.endpoints(toEndpoints(source, cluster, [...services.items.values()], [...slices.items.values()]));
    };
    const common = { watch, sleeper, timeoutSeconds, onUpdate: emit, onHealthy: emit, onError: (err: Error) => listener.error(err) };
    const fieldSelector = `metadata.name=${source.service}`;
    const labelSelector = `${LABEL_SERVICE_NAME}=${source.service}`;
    const services = new WatchedList({
      ...common,
      what: `services/${source.namespace}/${source.service}`,
      path: `/api/v1/namespaces/${ns}/services`,
      selector: { fieldSelector },
      list: () => core.listNamespacedService({ namespace: source.namespace, fieldSelector }) as unknown as Promise<KubeList>,
      backoff: new Backoff(ctx.random),
    });
    const slices = new WatchedList({
      ...common,
      what: `endpointslices/${source.namespace}?${labelSelector}`,
      path: `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
      selector: { labelSelector },
      list: () => discovery.listNamespacedEndpointSlice({ namespace: source.namespace, labelSelector }) as unknown as Promise<KubeList>,
      backoff: new Backoff(ctx.random),
    });
    lists = [services, slices];
    await Promise.all(lists.map((l) => l.run()));
  }

  return {
    start(listener) {
      running ??= run(listener);
    },
    async stop() {
      sleeper.close();
      for (const l of lists) l.stop();
      await running;
    },
  };
}

interface ServicePort { name?: string; port?: number }
interface SliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean | null; terminating?: boolean | null };
  nodeName?: string;
  zone?: string;
}
interface SlicePort { name?: string | null; port?: number | null }

/** Which slice port serves the source's port: by name when the Service (or the source) names it. */
function slicePortMatcher(source: KubernetesSource, service: KubeObject | undefined): ((p: SlicePort) => boolean) | undefined {
  const wanted = String(source.port);
  const numeric = /^\d+$/.test(wanted);
  if (service) {
    const ports = ((service['spec'] as { ports?: ServicePort[] } | undefined)?.ports ?? []);
    const sp = ports.find((p) => (numeric ? p.port === Number(wanted) : p.name === wanted));
    if (!sp) return undefined;
    const name = sp.name ?? '';
    return (p) => (p.name ?? '') === name;
  }
  return numeric ? (p) => p.port === Number(wanted) : (p) => (p.name ?? '') === wanted;
}

export function toEndpoints(
  source: KubernetesSource,
  cluster: ClusterConnection,
  services: readonly KubeObject[],
  slices: readonly KubeObject[],
): Endpoint[] {
  const matches = slicePortMatcher(source, services.find((s) => s.metadata?.name === source.service));
  if (!matches) return [];
  const byKey = new Map<string, Endpoint>();
  for (const slice of slices) {
    const addressType = slice['addressType'];
    if (addressType !== 'IPv4' && addressType !== 'IPv6') continue;
    const port = ((slice['ports'] as SlicePort[] | null | undefined) ?? []).find(matches)?.port;
    if (typeof port !== 'number') continue;
    const version = slice.metadata?.labels?.[LABEL_VERSION];
    for (const ep of (slice['endpoints'] as SliceEndpoint[] | null | undefined) ?? []) {
      const address = ep.addresses?.[0];
      if (!address) continue;
      const endpoint: Endpoint = {
        address,
        port,
        ready: ep.conditions?.ready !== false && ep.conditions?.terminating !== true,
        labels: mergeLabels(
          { [LABEL_PLATFORM]: 'kubernetes' },
          source.labels,
          cluster.labels,
          { [LABEL_VERSION]: version, [LABEL_ZONE]: ep.zone ?? undefined, [LABEL_HOSTNAME]: ep.nodeName ?? undefined },
          { [LABEL_CLUSTER]: cluster.name },
        ),
      };
      const key = endpointKey(endpoint);
      const seen = byKey.get(key);
      if (!seen || (!seen.ready && endpoint.ready)) byKey.set(key, endpoint);
    }
  }
  return sortEndpoints([...byKey.values()]);
}
