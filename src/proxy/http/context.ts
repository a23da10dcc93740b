/** What the request path needs from its listener socket and from the proxy as a whole. */
import type { Clock, Random } from '../../lib/index.ts';
import type { SocketRuntime } from '../config/socket-runtime.ts';
import type { PathPolicy } from '../route/normalize-path.ts';
import type { UpstreamRegistry } from '../upstream/registry.ts';
import type { Mirrorer } from '../upstream/mirror.ts';

export interface ProxyCore {
  readonly registry: UpstreamRegistry;
  readonly clock: Clock;
  readonly random: Random;
  readonly policy: PathPolicy;
  readonly mirror: Mirrorer;
}

export interface SocketContext {
  /** Swapped atomically by apply(); read once per request. */
  runtime: SocketRuntime;
  readonly core: ProxyCore;
  draining: boolean;
  inflight: number;
  /** Called when the last in-flight request finishes while draining. */
  onIdle(): void;
}
