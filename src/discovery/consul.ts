/**
 * The Consul provider: `GET /v1/health/service/<service>?passing=true` as a blocking query
 * (`index` = the last `X-Consul-Index`, `wait`), following Consul's blocking-query rules: an answer
 * with the same index is "no change"; an index that goes backwards is reset to 0; an index below 1
 * is treated as 1. After any failure the next request is a non-blocking read, so a recovered agent is
 * seen (and the source reported `ok`) at once rather than after a whole wait period.
 *
 * Endpoint labels, later entries winning: `ferry.dev/platform: vm`, the source's labels, the
 * instance's `Service.Meta`, `consul.hashicorp.com/tag.<tag>: "true"` per tag, and
 * `consul.hashicorp.com/datacenter`.
 */
import type { DiscoverySource, Endpoint } from '../snapshot/index.ts';
import { LABEL_PLATFORM } from '../snapshot/index.ts';
import { Backoff } from './backoff.ts';
import { endpointKey, mergeLabels, sortEndpoints } from './labels.ts';
import type { Provider, ProviderContext, ProviderListener } from './provider.ts';
import { toError } from './provider.ts';
import { Sleeper } from './sleep.ts';

export type ConsulSource = Extract<DiscoverySource, { type: 'consul' }>;

export const LABEL_CONSUL_DATACENTER = 'consul.hashicorp.com/datacenter';
export const CONSUL_TAG_PREFIX = 'consul.hashicorp.com/tag.';

export interface ConsulOptions {
  /** Blocking query `wait` in seconds (default 300, Consul's own default; Consul caps it at 600). */
  readonly waitSeconds?: number;
}

/** One element of Consul's `/v1/health/service` answer (only the fields read). */
interface HealthEntry {
  Node?: { Node?: string; Address?: string; Datacenter?: string };
  Service?: { ID?: string; Address?: string; Port?: number; Tags?: string[] | null; Meta?: Record<string, string> | null; Weights?: { Passing?: number } };
  Checks?: { Status?: string }[] | null;
}

export function createConsulProvider(source: ConsulSource, ctx: ProviderContext, opts: ConsulOptions = {}): Provider {
  const waitSeconds = opts.waitSeconds ?? 300;
  const sleeper = new Sleeper(ctx.clock);
  const abort = new AbortController();
  const backoff = new Backoff(ctx.random);
  let running: Promise<void> | undefined;

  async function loop(listener: ProviderListener): Promise<void> {
    let index = 0;
    while (!sleeper.closed) {
      try {
        const startedAt = performance.now();
        const res = await query(index);
        if (sleeper.closed) return;
        const next = Number(res.index);
        if (Number.isFinite(next) && next === index && index > 0) {
          // The wait expired without a change. An agent answering "no change" at once, again and
          // again, must not make us spin (Consul asks clients to rate-limit their blocking loops).
          if (performance.now() - startedAt < 1000) await sleeper.sleep(backoff.next());
          else backoff.reset();
          continue;
        }
        listener.endpoints(toEndpoints(source, res.entries));
        backoff.reset();
        // Consul: reset to 0 when the index goes backwards; never block on an index below 1.
        if (!Number.isFinite(next)) index = 0;
        else if (next < index) index = 0;
        else index = Math.max(1, next);
      } catch (err) {
        if (sleeper.closed) return;
        listener.error(toError(err));
        index = 0;
        await sleeper.sleep(backoff.next());
      }
    }
  }

  async function query(index: number): Promise<{ index: string | null; entries: HealthEntry[] }> {
    const url = new URL(`/v1/health/service/${encodeURIComponent(source.service)}`, source.address);
    url.searchParams.set('passing', 'true');
    if (source.datacenter) url.searchParams.set('dc', source.datacenter);
    if (source.tag) url.searchParams.set('tag', source.tag);
    if (index > 0) {
      url.searchParams.set('index', String(index));
      url.searchParams.set('wait', `${waitSeconds}s`);
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (source.token) headers['x-consul-token'] = source.token;
    // Consul adds up to wait/16 of jitter to a blocking query; allow that plus a margin.
    const deadlineMs = index > 0 ? waitSeconds * 1000 * (17 / 16) + 15_000 : 30_000;
    const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(deadlineMs)]);
    const res = await fetch(url, { headers, signal });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`consul ${source.service}: HTTP ${res.status}: ${text.slice(0, 200).trim()}`);
    let entries: unknown;
    try {
      entries = JSON.parse(text);
    } catch {
      throw new Error(`consul ${source.service}: answer is not JSON`);
    }
    if (!Array.isArray(entries)) throw new Error(`consul ${source.service}: answer is not a list`);
    return { index: res.headers.get('x-consul-index'), entries: entries as HealthEntry[] };
  }

  return {
    start(listener) {
      running ??= loop(listener);
    },
    async stop() {
      sleeper.close();
      abort.abort();
      await running;
    },
  };
}

/** Consul health entries → endpoints: passing instances only, labelled, deduplicated, sorted. */
export function toEndpoints(source: ConsulSource, entries: readonly HealthEntry[]): Endpoint[] {
  const seen = new Set<string>();
  const out: Endpoint[] = [];
  for (const entry of entries) {
    const svc = entry.Service;
    if (!svc || typeof svc.Port !== 'number') continue;
    if ((entry.Checks ?? []).some((c) => c.Status !== 'passing')) continue;
    const address = svc.Address || entry.Node?.Address;
    if (!address) continue;
    const endpoint: Endpoint = {
      address,
      port: svc.Port,
      ready: true,
      ...(typeof svc.Weights?.Passing === 'number' && svc.Weights.Passing !== 1 ? { weight: svc.Weights.Passing } : {}),
      labels: mergeLabels(
        { [LABEL_PLATFORM]: 'vm' },
        source.labels,
        svc.Meta ?? undefined,
        Object.fromEntries((svc.Tags ?? []).map((t) => [`${CONSUL_TAG_PREFIX}${t}`, 'true'])),
        { [LABEL_CONSUL_DATACENTER]: entry.Node?.Datacenter ?? source.datacenter },
      ),
    };
    const key = endpointKey(endpoint);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(endpoint);
  }
  return sortEndpoints(out);
}
