/**
 * The composition root: files → store → compile → proxy, with the admin API, metrics and access log
 * subscribed beside it. The only module that imports every folder. It owns the reload sequence:
 * read, merge with the last good set, compile, and swap only when the snapshot changed; endpoint-only
 * changes go straight to the proxy without touching routes.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Registry } from 'prom-client';
import { formatConfigError, systemClock, type ConfigError } from './lib/index.ts';
import { createRolloutRuntime, type RolloutRuntime } from './control/rollouts.ts';
import { loadConfigPaths } from './resources/index.ts';
import { compile, compileEndpoints } from './compile/index.ts';
import { createLastGoodStore } from './store/index.ts';
import { watchPaths, type FileWatcher } from './sources/index.ts';
import { createProxy, type Proxy, type BoundSocket } from './proxy/index.ts';
import { createMetrics, createAccessLog, createLogger } from './observe/index.ts';
import { createAdminServer, type AdminState } from './admin/index.ts';
import { createDiscoveryManager, resolveBackendEndpoints } from './discovery/index.ts';
import { configChannel, type CompileReport, type DiscoveryPlan, type Endpoint, type EndpointSets, type Snapshot } from './snapshot/index.ts';

export interface FerryOptions {
  configPaths: string[];
  /** `namespace/gateway/port` → address to bind instead of the declared port on all addresses. */
  binds: ReadonlyMap<string, { host: string; port: number }>;
  admin: { host: string; port: number } | null;
  /** `stdout`, `off`, or a file path. */
  accessLog: string;
  logLevel: string;
  drainTimeoutMs: number;
  encodedSlashes: 'reject' | 'keep' | 'decode';
  /** Watch the configuration and reload on change (default true). */
  watch: boolean;
  /** Print the `listening` line once serving (default true; workers of `--workers` leave it to the primary). */
  announce?: boolean;
  /** Called after every reload, e.g. to hand the state to the primary process of `--workers`. */
  onReload?: (state: AdminState) => void;
  /** Where Rollout progress is kept across restarts; null keeps it in memory. */
  stateFile: string | null;
  /** Drive Rollouts in this process (default true; off in `--workers` processes). */
  rollouts?: boolean;
}

export type ReloadOutcome = 'applied' | 'rejected' | 'unchanged';

export interface Ferry {
  readonly sockets: () => BoundSocket[];
  /** What the admin API shows: readiness, snapshot, endpoints, report, last reload, sockets. */
  readonly state: AdminState;
  /** The metrics registry (aggregated across processes by the `--workers` primary). */
  readonly registry: Registry;
  readonly admin: { host: string; port: number } | null;
  reload(): Promise<ReloadOutcome>;
  stop(): Promise<void>;
}

export async function startFerry(options: FerryOptions): Promise<Ferry> {
  const log = createLogger({ level: options.logLevel });
  const metrics = createMetrics();
  const unsubscribeMetrics = metrics.subscribe();
  const accessLog = options.accessLog === 'off' ? null : createAccessLog({ destination: options.accessLog });
  const unsubscribeAccess = accessLog?.subscribe();
  const proxy: Proxy = createProxy({ encodedSlashes: options.encodedSlashes });
  const store = createLastGoodStore<Parameters<typeof compile>[0]['resources'][number]>();

  let snapshot: Snapshot | null = null;
  let endpoints: EndpointSets = new Map();
  /** Endpoints of Service backends, from the configuration's EndpointSlices. */
  let serviceEndpoints: EndpointSets = new Map();
  let plan: DiscoveryPlan = { clusters: [], sources: [], backends: {} };

  // Endpoint lane: discovery changes and EndpointSlice edits replace endpoint lists in the proxy
  // without recompiling routes. Bursts of source changes are merged into one update.
  let endpointsQueued = false;
  const publishEndpoints = () => {
    const next = new Map<string, readonly Endpoint[]>(serviceEndpoints);
    for (const [id, eps] of resolveBackendEndpoints(plan, (key) => discovery.endpoints(key))) next.set(id, eps);
    if (isDeepStrictEqual(next, endpoints)) return;
    endpoints = next;
    proxy.setEndpoints(endpoints);
  };
  const discovery = createDiscoveryManager({
    clusters: [],
    onChange: () => {
      if (endpointsQueued) return;
      endpointsQueued = true;
      queueMicrotask(() => {
        endpointsQueued = false;
        publishEndpoints();
      });
    },
    log: { info: (obj, msg) => log.info(obj, msg), warn: (obj, msg) => log.warn(obj, msg) },
  });
  let report: CompileReport | null = null;
  let lastReload: { at: string; outcome: ReloadOutcome; hash: string; errors: number } | null = null;
  let draining = false;

  // The last load, kept so a Rollout's traffic change recompiles without reading the files again.
  let loaded: { resources: Parameters<typeof compile>[0]['resources']; errors: ConfigError[] } | null = null;

  const build = async (fromFiles: boolean): Promise<ReloadOutcome> => {
    if (loaded === null) return 'unchanged';
    const input = { resources: loaded.resources, binds: options.binds, errors: loaded.errors };
    let overrides = rollouts?.overrides() ?? new Map();
    let compiled = compile({ ...input, overrides });
    if (rollouts) {
      // New or changed Rollouts learn their targets here and may want other traffic at once.
      rollouts.sync(compiled.rollouts);
      const next = rollouts.overrides();
      if (!isDeepStrictEqual(next, overrides)) {
        overrides = next;
        compiled = compile({ ...input, overrides });
      }
    }
    const errors = compiled.report.errors;
    report = compiled.report;
    if (fromFiles && !rollouts && Object.keys(compiled.rollouts).length > 0) {
      log.warn({}, 'Rollouts are driven only by a single Ferry process (no --workers): their routes keep their declared weights');
    }
    if (fromFiles) {
      for (const e of errors) {
        const line = formatConfigError(e);
        if (e.severity === 'error') log.error({ configError: e }, line);
        else log.warn({ configError: e }, line);
      }
    }
    const errorCount = errors.filter((e) => e.severity === 'error').length;

    let outcome: ReloadOutcome;
    if (snapshot !== null && snapshot.hash === compiled.snapshot.hash) {
      outcome = errorCount > 0 && fromFiles ? 'rejected' : 'unchanged';
    } else {
      const applied = await proxy.apply(compiled.snapshot);
      for (const e of applied.errors) log.error({ socket: e.socket }, `cannot serve ${e.socket}: ${e.message}`);
      snapshot = compiled.snapshot;
      outcome = 'applied';
    }
    serviceEndpoints = compileEndpoints(loaded.resources, compiled.snapshot);
    plan = compiled.discovery;
    discovery.sync(plan);
    publishEndpoints();
    if (fromFiles || outcome === 'applied') {
      lastReload = { at: new Date().toISOString(), outcome, hash: compiled.snapshot.hash, errors: errorCount };
      options.onReload?.(state);
      configChannel.publish({ outcome, hash: compiled.snapshot.hash, errors: errorCount });
      log.info({ outcome, hash: compiled.snapshot.hash, errors: errorCount }, fromFiles ? 'configuration loaded' : 'rollout traffic applied');
    }
    return outcome;
  };

  const reloadOnce = async (fromFiles: boolean): Promise<ReloadOutcome> => {
    if (fromFiles || loaded === null) {
      const load = await loadConfigPaths(options.configPaths);
      const merged = store.merge(load);
      loaded = { resources: merged.resources, errors: [...load.errors, ...merged.held] };
      return build(true);
    }
    return build(false);
  };

  // Builds never overlap: a change during one schedules exactly one more (reading the files if any
  // of the requests asked for it).
  let running: Promise<ReloadOutcome> | null = null;
  let again = false;
  let readFiles = false;
  const schedule = async (fromFiles: boolean): Promise<ReloadOutcome> => {
    readFiles ||= fromFiles;
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let outcome: ReloadOutcome;
      do {
        again = false;
        const read = readFiles;
        readFiles = false;
        try {
          outcome = await reloadOnce(read);
        } catch (err) {
          log.error({ err }, 'reload failed; the last good configuration keeps serving');
          outcome = 'rejected';
        }
      } while (again);
      return outcome;
    })();
    try {
      return await running;
    } finally {
      running = null;
    }
  };
  const reload = () => schedule(true);

  const rollouts: RolloutRuntime | null = options.rollouts === false ? null : createRolloutRuntime({
    clock: systemClock,
    stateFile: options.stateFile,
    onOverridesChanged: () => void schedule(false),
    onEvent: (e) => log.info({ rolloutEvent: e }, `rollout ${e.rollout}: ${e.from} → ${e.to} at step ${e.step + 1}: ${e.reason}`),
    onWarning: (message) => log.warn({}, message),
  });

  const state: AdminState = {
    ready: () => snapshot !== null && !draining,
    snapshot: () => snapshot,
    endpoints: () => endpoints,
    report: () => report,
    lastReload: () => lastReload,
    sockets: () => proxy.sockets(),
    sources: () => discovery.status(),
    ...(rollouts ? { rollouts: rollouts.admin } : {}),
  };

  await reload();

  const admin = options.admin
    ? await createAdminServer({ host: options.admin.host, port: options.admin.port, registry: metrics.registry, state })
    : null;

  const watcher: FileWatcher | null = options.watch
    ? watchPaths(options.configPaths, () => void reload(), { onError: (err) => log.warn({ err }, 'watching configuration failed') })
    : null;

  if (options.announce !== false) {
    log.info({ sockets: proxy.sockets(), admin: admin ? { host: admin.host, port: admin.port } : null }, 'listening');
  }

  return {
    sockets: () => proxy.sockets(),
    state,
    registry: metrics.registry,
    admin: admin ? { host: admin.host, port: admin.port } : null,
    reload,
    async stop() {
      draining = true;
      watcher?.close();
      log.info({ graceMs: options.drainTimeoutMs }, 'draining');
      rollouts?.close();
      await proxy.drain(options.drainTimeoutMs);
      await discovery.close();
      await admin?.close();
      unsubscribeAccess?.();
      await accessLog?.flush();
      unsubscribeMetrics();
      log.info({}, 'stopped');
    },
  };
}
