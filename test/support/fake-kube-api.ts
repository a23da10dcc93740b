/**
 * A fake Kubernetes API server on 127.0.0.1 for discovery tests: namespaced Services (`/api/v1`) and
 * EndpointSlices (`/apis/discovery.k8s.io/v1`), listed, read and watched the way
 * @kubernetes/client-node asks for them, plus a kubeconfig file pointing at it.
 *
 * Faithful: one resourceVersion counter for every write; list answers carry the collection's
 * `metadata.resourceVersion` and items without kind/apiVersion; `?watch=true|1` streams
 * newline-delimited `{type, object}` events (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR), each object
 * carrying its resourceVersion; a watch without a resourceVersion (or "0") starts with synthetic ADDED
 * events for what exists; a watch from an older version replays what happened since; a watch from a
 * compacted version gets an ERROR event with a 410 `Expired` Status and the stream ends (a list with
 * such a version gets HTTP 410); objects entering or leaving a selector appear as ADDED / DELETED;
 * `timeoutSeconds` ends the stream (after a bookmark when `allowWatchBookmarks=true`); Status bodies
 * for 401/404/410; bearer-token auth when a token is set.
 * Simplified: equality-based label selectors only (`k=v`, `k==v`, `k!=v`, `k`, `!k`); field selectors on
 * metadata.name/namespace only; no paging (`limit`/`continue`), no cluster-wide paths, no writes over
 * HTTP (tests change state with upsert/remove), bookmarks only when bookmark() is called or on timeout.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface KubeObject {
  apiVersion?: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; [k: string]: unknown };
  [field: string]: unknown;
}

export interface FakeKubeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
}

export interface FakeKubeApiOptions {
  /** Require `Authorization: Bearer <token>` (and write it into the kubeconfig). */
  token?: string;
  /** Name of the kubeconfig's context (default `fake`). */
  context?: string;
}

export interface FakeKubeApi {
  /** `http://127.0.0.1:<port>` (the same port across stop()/start()). */
  readonly url: string;
  /** A kubeconfig whose current context points at this server. */
  readonly kubeconfigPath: string;
  readonly requests: FakeKubeRequest[];
  /** Creates or replaces an object (Service or EndpointSlice); returns its new resourceVersion. */
  upsert(obj: KubeObject): string;
  remove(kind: string, namespace: string, name: string): void;
  /** Forgets history: a watch or list from any version before now gets 410 Gone / Expired. */
  compact(): void;
  /** Destroys every open watch connection mid-stream. */
  breakWatches(): void;
  /** Sends a BOOKMARK with the current resourceVersion to watches that allow bookmarks. */
  bookmark(): void;
  readonly openWatches: number;
  readonly resourceVersion: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

interface Collection { readonly kind: string; readonly apiVersion: string; readonly listKind: string; readonly plural: string }
const COLLECTIONS: Record<string, Collection> = {
  'api/v1/services': { kind: 'Service', apiVersion: 'v1', listKind: 'ServiceList', plural: 'services' },
  'apis/discovery.k8s.io/v1/endpointslices': { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', listKind: 'EndpointSliceList', plural: 'endpointslices' },
};

interface Change { readonly rv: number; readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: KubeObject; readonly previous?: KubeObject }
interface Watcher {
  readonly res: http.ServerResponse;
  readonly matches: (o: KubeObject | undefined) => boolean;
  readonly collection: Collection;
  readonly bookmarks: boolean;
}

export async function startFakeKubeApi(opts: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
  const objects = new Map<string, KubeObject>();
  const history: Change[] = [];
  const watchers = new Set<Watcher>();
  const sockets = new Set<Socket>();
  const requests: FakeKubeRequest[] = [];
  let rv = 100;
  let compactedBelow = 0;
  let port = 0;
  let server: http.Server | undefined;
  const keyOf = (kind: string, ns: string, name: string) => `${kind}/${ns}/${name}`;

  function status(res: http.ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
  }

  function send(w: Watcher, type: string, object: unknown): void {
    if (!w.res.destroyed) w.res.write(JSON.stringify({ type, object }) + '\n');
  }

  function deliver(w: Watcher, c: Change): void {
    if (c.object.kind !== w.collection.kind) return;
    const now = c.type !== 'DELETED' && w.matches(c.object);
    const before = c.type === 'DELETED' ? w.matches(c.object) : c.previous !== undefined && w.matches(c.previous);
    if (c.type === 'DELETED') return void (before && send(w, 'DELETED', c.object));
    if (now && before) send(w, 'MODIFIED', c.object);
    else if (now) send(w, 'ADDED', c.object);
    else if (before) send(w, 'DELETED', c.object);
  }

  function record(change: Change): void {
    history.push(change);
    for (const w of watchers) deliver(w, change);
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://kube');
    const query = Object.fromEntries(url.searchParams);
    requests.push({ method: req.method ?? 'GET', path: url.pathname, query, headers: req.headers });
    if (opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) return status(res, 401, 'Unauthorized', 'Unauthorized');
    const m = /^\/(api\/v1|apis\/[^/]+\/[^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
    const collection = m ? COLLECTIONS[`${m[1]}/${m[3]}`] : undefined;
    if (req.method !== 'GET' || !m || !collection) return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const ns = decodeURIComponent(m[2]!);
    const name = m[4] ? decodeURIComponent(m[4]) : undefined;
    if (name !== undefined) {
      const obj = objects.get(keyOf(collection.kind, ns, name));
      if (!obj) return status(res, 404, 'NotFound', `${collection.plural} "${name}" not found`);
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify(obj));
    }
    const matches = selectorMatcher(ns, query.labelSelector, query.fieldSelector);
    const since = query.resourceVersion ?? '';
    const expired = since !== '' && since !== '0' && Number(since) < compactedBelow;
    if (query.watch === 'true' || query.watch === '1') {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders(); // as the API server does: the watch is established before any event
      const w: Watcher = { res, matches, collection, bookmarks: query.allowWatchBookmarks === 'true' };
      if (expired) {
        send(w, 'ERROR', { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${since} (${compactedBelow})`, reason: 'Expired', code: 410 });
        return void res.end();
      }
      if (since === '' || since === '0') {
        for (const obj of objects.values()) if (obj.kind === collection.kind && matches(obj)) send(w, 'ADDED', obj);
      } else {
        for (const c of history) if (c.rv > Number(since)) deliver(w, c);
      }
      watchers.add(w);
      const timeout = Number(query.timeoutSeconds ?? 0);
      const timer = timeout > 0 ? setTimeout(() => {
        if (w.bookmarks) send(w, 'BOOKMARK', bookmarkObject(w.collection));
        res.end();
      }, timeout * 1000) : undefined;
      timer?.unref();
      res.on('close', () => {
        watchers.delete(w);
        clearTimeout(timer);
      });
      return;
    }
    if (expired && query.resourceVersionMatch === 'Exact') return status(res, 410, 'Expired', `too old resource version: ${since} (${compactedBelow})`);
    const items = [...objects.values()].filter((o) => o.kind === collection.kind && matches(o)).map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: collection.listKind, apiVersion: collection.apiVersion, metadata: { resourceVersion: String(rv) }, items }));
  }

  const bookmarkObject = (c: Collection) => ({ kind: c.kind, apiVersion: c.apiVersion, metadata: { resourceVersion: String(rv) } });

  async function start(): Promise<void> {
    if (server) return;
    const s = http.createServer((req, res) => {
      try {
        handle(req, res);
      } catch (err) {
        status(res, 400, 'BadRequest', err instanceof Error ? err.message : String(err));
      }
    });
    s.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => s.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    port = (s.address() as AddressInfo).port;
    server = s;
  }

  async function stop(): Promise<void> {
    const s = server;
    if (!s) return;
    server = undefined;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    watchers.clear();
    await closed;
  }

  await start();
  const url = `http://127.0.0.1:${port}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-kube-'));
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  const context = opts.context ?? 'fake';
  await writeFile(kubeconfigPath, [
    'apiVersion: v1', 'kind: Config', `current-context: ${context}`,
    // Plain HTTP: the client library only allows it with TLS verification switched off.
    'clusters:', '- name: fake', '  cluster:', `    server: ${url}`, '    insecure-skip-tls-verify: true',
    'users:', '- name: fake', opts.token !== undefined ? `  user:\n    token: ${opts.token}` : '  user: {}',
    'contexts:', `- name: ${context}`, '  context:', '    cluster: fake', '    user: fake', '',
  ].join('\n'));

  return {
    url,
    kubeconfigPath,
    requests,
    upsert(input) {
      const ns = input.metadata.namespace ?? 'default';
      const key = keyOf(input.kind, ns, input.metadata.name);
      const previous = objects.get(key);
      const collection = Object.values(COLLECTIONS).find((c) => c.kind === input.kind);
      if (!collection) throw new Error(`fake kube API: unsupported kind ${input.kind}`);
      rv++;
      const obj: KubeObject = structuredClone({
        ...input,
        apiVersion: input.apiVersion ?? collection.apiVersion,
        metadata: { uid: previous?.metadata['uid'] ?? `uid-${rv}`, ...input.metadata, namespace: ns, resourceVersion: String(rv) },
      });
      objects.set(key, obj);
      record({ rv, type: previous ? 'MODIFIED' : 'ADDED', object: obj, ...(previous ? { previous } : {}) });
      return String(rv);
    },
    remove(kind, namespace, name) {
      const key = keyOf(kind, namespace, name);
      const previous = objects.get(key);
      if (!previous) return;
      objects.delete(key);
      rv++;
      record({ rv, type: 'DELETED', object: { ...previous, metadata: { ...previous.metadata, resourceVersion: String(rv) } } });
    },
    compact() {
      compactedBelow = rv;
      history.length = 0;
    },
    breakWatches() {
      for (const w of [...watchers]) {
        watchers.delete(w);
        w.res.socket?.destroy();
      }
    },
    bookmark() {
      for (const w of watchers) if (w.bookmarks) send(w, 'BOOKMARK', bookmarkObject(w.collection));
    },
    get openWatches() {
      return watchers.size;
    },
    get resourceVersion() {
      return String(rv);
    },
    stop,
    start,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Equality-based label selector plus metadata.name/namespace field selector, within one namespace. */
function selectorMatcher(namespace: string, labelSelector = '', fieldSelector = ''): (o: KubeObject | undefined) => boolean {
  const labelTests = labelSelector.split(',').map((s) => s.trim()).filter(Boolean).map((term) => {
    let m: RegExpExecArray | null;
    if ((m = /^([^!=]+)!=(.*)$/.exec(term))) { const [, k, v] = m; return (l: Record<string, string>) => l[k!.trim()] !== v!.trim(); }
    if ((m = /^([^!=]+)==?(.*)$/.exec(term))) { const [, k, v] = m; return (l: Record<string, string>) => l[k!.trim()] === v!.trim(); }
    if (term.startsWith('!')) return (l: Record<string, string>) => !(term.slice(1) in l);
    return (l: Record<string, string>) => term in l;
  });
  const fieldTests = fieldSelector.split(',').map((s) => s.trim()).filter(Boolean).map((term) => {
    const [field, value] = term.split(/==?/) as [string, string];
    if (field === 'metadata.name') return (o: KubeObject) => o.metadata.name === value;
    if (field === 'metadata.namespace') return (o: KubeObject) => (o.metadata.namespace ?? 'default') === value;
    throw new Error(`fake kube API: unsupported field selector ${field}`);
  });
  return (o) => !!o && (o.metadata.namespace ?? 'default') === namespace &&
    labelTests.every((t) => t(o.metadata.labels ?? {})) && fieldTests.every((t) => t(o));
}
