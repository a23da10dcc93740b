/**
 * The static provider: endpoints written in the configuration (a Backend's addresses, or a config
 * Service's EndpointSlices already resolved by compile). It reports them once; it cannot fail.
 */
import type { DiscoverySource } from '../snapshot/index.ts';
import type { Provider, ProviderListener } from './provider.ts';

export type StaticSource = Extract<DiscoverySource, { type: 'static' }>;

export function createStaticProvider(source: StaticSource): Provider {
  let stopped = false;
  return {
    start(listener: ProviderListener) {
      if (!stopped) listener.endpoints(source.endpoints);
    },
    async stop() {
      stopped = true;
    },
  };
}
