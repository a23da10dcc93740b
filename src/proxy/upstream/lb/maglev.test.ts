import { Maglev } from './maglev.ts';
import { balancerContract, consistentHashContract } from '../balancer.contract.ts';

balancerContract('Maglev', () => new Maglev(), { hashed: true });
consistentHashContract('Maglev', () => new Maglev());
