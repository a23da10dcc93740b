/** The static provider passes the provider contract (it reports its endpoints once and never fails). */
import type { Endpoint } from '../snapshot/index.ts';
import { providerContract } from './provider.contract.ts';
import { createStaticProvider } from './static.ts';

providerContract({
  name: 'static',
  updates: false,
  async world(initial) {
    const endpoints: Endpoint[] = initial.map((a) => ({ ...a, ready: true, labels: {} }));
    return {
      async publish() {
        throw new Error('static endpoints do not change');
      },
      provider: () => createStaticProvider({ type: 'static', key: 'static/x', endpoints }),
      async close() {},
    };
  },
});
