/**
 * The DNS provider: A/AAAA answers (with the source's port) or SRV answers (ports from the records,
 * targets looked up as A and AAAA through the same resolver), re-resolved periodically.
 *
 * When to re-resolve: for A/AAAA, after the smallest TTL in the answer, clamped into
 * [minRefreshMs, maxRefreshMs]. Node's resolver does not expose the TTL of SRV records
 * (`resolveSrv` has no `ttl` option and `resolveAny` omits it for SRV), so SRV sources re-resolve
 * every minRefreshMs: a changed SRV set is never seen later than the floor the operator chose.
 *
 * Any failure (timeout, NXDOMAIN, SERVFAIL, refused, an empty answer) keeps the last known endpoints
 * and retries with backoff. SRV targets that do not resolve are skipped; if none resolves it is a
 * failure. Every SRV target is an endpoint whatever its priority (failover is the locality policy's
 * job); the priority is kept as a label, the weight as the endpoint's weight (0 counts as 1).
 */
import { promises as dns } from 'node:dns';
import type { DiscoverySource, Endpoint } from '../snapshot/index.ts';
import { LABEL_PLATFORM } from '../snapshot/index.ts';
import { Backoff } from './backoff.ts';
import { endpointKey, mergeLabels, sortEndpoints } from './labels.ts';
import type { Provider, ProviderContext, ProviderListener } from './provider.ts';
import { toError } from './provider.ts';
import { Sleeper } from './sleep.ts';

export type DnsSource = Extract<DiscoverySource, { type: 'dns' }>;

export const LABEL_SRV_PRIORITY = 'ferry.dev/srv-priority';

export interface DnsOptions {
  /** Per-query timeout of the resolver (default 2000 ms) and tries per server (default 2). */
  readonly timeoutMs?: number;
  readonly tries?: number;
}

interface Resolution {
  readonly endpoints: Endpoint[];
  /** Seconds until the answer expires, or undefined when unknown. */
  readonly ttl: number | undefined;
}

export function createDnsProvider(source: DnsSource, ctx: ProviderContext, opts: DnsOptions = {}): Provider {
  const resolver = new dns.Resolver({ timeout: opts.timeoutMs ?? 2000, tries: opts.tries ?? 2 });
  if (source.servers.length > 0) resolver.setServers([...source.servers]);
  const sleeper = new Sleeper(ctx.clock);
  const backoff = new Backoff(ctx.random, { maxMs: Math.max(source.minRefreshMs, Math.min(30_000, source.maxRefreshMs)) });
  const labels = mergeLabels({ [LABEL_PLATFORM]: 'vm' }, source.labels);
  let running: Promise<void> | undefined;

  const refreshMs = (ttl: number | undefined) =>
    Math.min(source.maxRefreshMs, Math.max(source.minRefreshMs, ttl === undefined ? 0 : ttl * 1000));

  async function loop(listener: ProviderListener): Promise<void> {
    while (!sleeper.closed) {
      let delay: number;
      try {
        const r = source.recordType === 'SRV' ? await resolveSrv() : await resolveAddresses();
        if (sleeper.closed) return;
        if (r.endpoints.length === 0) throw new Error(`dns ${source.name}: no ${source.recordType} records`);
        listener.endpoints(r.endpoints);
        backoff.reset();
        delay = refreshMs(r.ttl);
      } catch (err) {
        if (sleeper.closed) return;
        listener.error(describe(err));
        delay = backoff.next();
      }
      await sleeper.sleep(delay);
    }
  }

  async function lookup(name: string, type: 'A' | 'AAAA'): Promise<{ address: string; ttl: number }[]> {
    return type === 'A' ? resolver.resolve4(name, { ttl: true }) : resolver.resolve6(name, { ttl: true });
  }

  async function resolveAddresses(): Promise<Resolution> {
    const answers = await lookup(source.name, source.recordType === 'AAAA' ? 'AAAA' : 'A');
    const endpoints = answers.map((a) => ({ address: a.address, port: source.port, ready: true, labels }));
    return { endpoints: dedupe(endpoints), ttl: minTtl(answers) };
  }

  async function resolveSrv(): Promise<Resolution> {
    const records = await resolver.resolveSrv(source.name);
    const targets = [...new Set(records.map((r) => r.name))];
    const addresses = new Map<string, string[]>();
    await Promise.all(
      targets.map(async (target) => {
        const [v4, v6] = await Promise.allSettled([lookup(target, 'A'), lookup(target, 'AAAA')]);
        const found = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
        if (found.length === 0) {
          // A target that does not exist is skipped; a resolver that cannot answer fails the round.
          const reason = v4.status === 'rejected' ? v4.reason : undefined;
          if (reason && !isNoData(reason)) throw reason;
        }
        addresses.set(target, found.map((a) => a.address));
      }),
    );
    const endpoints: Endpoint[] = [];
    for (const r of records) {
      for (const address of addresses.get(r.name) ?? []) {
        endpoints.push({
          address,
          port: r.port,
          ready: true,
          ...(r.weight > 1 ? { weight: r.weight } : {}),
          labels: { ...labels, [LABEL_SRV_PRIORITY]: String(r.priority) },
        });
      }
    }
    return { endpoints: dedupe(endpoints), ttl: undefined };
  }

  return {
    start(listener) {
      running ??= loop(listener);
    },
    async stop() {
      sleeper.close();
      resolver.cancel();
      await running;
    },
  };
}

function dedupe(list: Endpoint[]): Endpoint[] {
  const seen = new Set<string>();
  return sortEndpoints(list.filter((e) => !seen.has(endpointKey(e)) && (seen.add(endpointKey(e)), true)));
}

function minTtl(answers: readonly { ttl: number }[]): number | undefined {
  return answers.length === 0 ? undefined : Math.min(...answers.map((a) => a.ttl));
}

function isNoData(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === dns.NOTFOUND || code === dns.NODATA;
}

/** Resolver errors carry a code (ETIMEOUT, ENOTFOUND, ESERVFAIL...) that says more than the message. */
function describe(err: unknown): Error {
  const e = toError(err);
  const code = (err as { code?: string }).code;
  return code && !e.message.includes(code) ? new Error(`${e.message} (${code})`, { cause: err }) : e;
}
