/**
 * Discovery: turns the plan's sources (static, Consul, DNS, Kubernetes EndpointSlices) into endpoint
 * lists kept per source key, and merges them per Backend. Control-plane only; never imports the proxy.
 */
export { createDiscoveryManager } from './manager.ts';
export type { DiscoveryManager, DiscoveryOptions } from './manager.ts';
export { resolveBackendEndpoints } from './resolve.ts';
export { loadKubeConfig, LABEL_HOSTNAME, LABEL_SERVICE_NAME } from './kubernetes.ts';
export type { KubernetesOptions } from './kubernetes.ts';
export { LABEL_CONSUL_DATACENTER, CONSUL_TAG_PREFIX } from './consul.ts';
export type { ConsulOptions } from './consul.ts';
export { LABEL_SRV_PRIORITY } from './dns.ts';
export type { DnsOptions } from './dns.ts';
export type { DiscoveryLog } from './provider.ts';
