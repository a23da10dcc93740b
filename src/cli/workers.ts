/**
 * `ferry run --workers N`: one primary process and N workers sharing the listening sockets
 * (node:cluster), so the data plane uses every core. Each worker loads, watches and serves the
 * configuration on its own; the primary owns the admin API: it keeps the state the first live
 * worker reports after every reload (/config, /status), asks every worker for its metrics and sums
 * them (prom-client's AggregatorRegistry), and is ready when every worker is. SIGTERM drains all
 * workers; a worker that dies unexpectedly is replaced.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { createAdminServer, type AdminState, type BoundSocketInfo, type LastReload } from '../admin/index.ts';
import { createLogger } from '../observe/index.ts';
import type { CompileReport, Endpoint, Snapshot, SourceStatus } from '../snapshot/index.ts';

/** What a worker sends the primary after each reload. */
export interface WorkerStateMessage {
  readonly type: 'ferry:state';
  readonly ready: boolean;
  readonly snapshot: Snapshot | null;
  readonly endpoints: [string, readonly Endpoint[]][];
  readonly report: CompileReport | null;
  readonly lastReload: LastReload | null;
  readonly sockets: readonly BoundSocketInfo[];
  readonly sources: readonly SourceStatus[];
}

export function stateMessage(s: AdminState): WorkerStateMessage {
  return {
    type: 'ferry:state', ready: s.ready(), snapshot: s.snapshot(), endpoints: [...s.endpoints()],
    report: s.report(), lastReload: s.lastReload(), sockets: s.sockets(), sources: s.sources?.() ?? [],
  };
}

export interface PrimaryOptions {
  workers: number;
  admin: { host: string; port: number } | null;
  drainTimeoutMs: number;
  logLevel: string;
}

export async function runPrimary(o: PrimaryOptions): Promise<void> {
  const log = createLogger({ level: o.logLevel });
  const states = new Map<number, WorkerStateMessage>();
  let stopping = false;
  let announced = false;

  const current = (): WorkerStateMessage | undefined => {
    const ids = [...states.keys()].sort((a, b) => a - b);
    return ids.length > 0 ? states.get(ids[0]) : undefined;
  };
  const state: AdminState = {
    ready: () => !stopping && states.size === o.workers && [...states.values()].every((s) => s.ready),
    snapshot: () => current()?.snapshot ?? null,
    endpoints: () => new Map(current()?.endpoints ?? []),
    report: () => current()?.report ?? null,
    lastReload: () => current()?.lastReload ?? null,
    sockets: () => current()?.sockets ?? [],
    sources: () => current()?.sources ?? [],
  };
  const aggregator = new AggregatorRegistry();
  const registry = {
    contentType: aggregator.contentType,
    metrics: () => aggregator.clusterMetrics(),
  } as unknown as Registry;
  const admin = o.admin ? await createAdminServer({ host: o.admin.host, port: o.admin.port, registry, state }) : null;

  const fork = (): Worker => {
    const w = cluster.fork({ FERRY_WORKER: '1' });
    w.on('message', (m: { type?: string }) => {
      if (m?.type !== 'ferry:state') return;
      states.set(w.id, m as WorkerStateMessage);
      if (!announced && state.ready()) {
        announced = true;
        log.info({ sockets: state.sockets(), admin: admin ? { host: admin.host, port: admin.port } : null, workers: o.workers }, 'listening');
      }
    });
    return w;
  };
  cluster.on('exit', (w, code, signal) => {
    states.delete(w.id);
    if (stopping) return;
    log.error({ worker: w.id, code, signal }, 'worker exited; starting a new one');
    fork();
  });
  for (let i = 0; i < o.workers; i++) fork();

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log.info({ graceMs: o.drainTimeoutMs }, 'draining workers');
    const exits = Object.values(cluster.workers ?? {}).map(
      (w) => new Promise<void>((resolve) => {
        if (!w || w.isDead()) return resolve();
        w.once('exit', () => resolve());
        w.process.kill('SIGTERM');
      }),
    );
    await Promise.all(exits);
    await admin?.close();
    log.info({}, 'stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
}
