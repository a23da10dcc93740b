/** Balancer by policy type. */
import type { LoadBalancerSpec } from '../../../snapshot/index.ts';
import type { Random } from '../../../lib/index.ts';
import type { Balancer } from '../balancer.ts';
import { RoundRobin } from './round-robin.ts';
import { LeastRequest } from './least-request.ts';
import { RandomBalancer } from './random.ts';
import { RingHash } from './ring-hash.ts';
import { Maglev } from './maglev.ts';

export function createBalancer(spec: LoadBalancerSpec, random: Random): Balancer {
  switch (spec.type) {
    case 'LeastRequest': return new LeastRequest(random);
    case 'Random': return new RandomBalancer(random);
    case 'RingHash': return new RingHash(spec.ringSize);
    case 'Maglev': return new Maglev();
    default: return new RoundRobin();
  }
}

/** Whether the policy places requests by a hash of the request. */
export function isHashPolicy(spec: LoadBalancerSpec): boolean {
  return (spec.type === 'RingHash' || spec.type === 'Maglev') && spec.hashOn !== null;
}

export { RoundRobin, LeastRequest, RandomBalancer, RingHash, Maglev };
