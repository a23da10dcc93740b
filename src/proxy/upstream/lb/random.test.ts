import { seededRandom } from '../../../lib/index.ts';
import { RandomBalancer } from './random.ts';
import { balancerContract } from '../balancer.contract.ts';

balancerContract('Random', () => new RandomBalancer(seededRandom(42)));
