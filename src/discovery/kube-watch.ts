/**
 * List-then-watch of one Kubernetes collection, the way client-go's reflector does it: list (keeping
 * the list's resourceVersion), watch from that version with `allowWatchBookmarks` and a server-side
 * `timeoutSeconds`, follow every event's resourceVersion (bookmarks included), resume from the last
 * one when a watch ends or breaks, and relist only when the version has expired (HTTP 410 on the
 * request, or an ERROR event carrying a 410 Status in the stream). Other failures are reported and
 * retried with backoff.
 *
 * Built on the client library's `Watch` (not its `ListWatch` informer): ListWatch sends no
 * `allowWatchBookmarks`, and after any non-410 error it stops for good, leaving the restart to the
 * caller without a backoff of its own.
 */
import type { Watch } from '@kubernetes/client-node';
import type { Backoff } from './backoff.ts';
import type { Sleeper } from './sleep.ts';
import { toError } from './provider.ts';

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export interface KubeList {
  items: KubeObject[];
  metadata?: { resourceVersion?: string };
}

export interface WatchedListOptions {
  /** For messages: `endpointslices`, `services`. */
  readonly what: string;
  /** Collection path, e.g. `/apis/discovery.k8s.io/v1/namespaces/<ns>/endpointslices`. */
  readonly path: string;
  /** labelSelector / fieldSelector, sent on watches (the list function applies its own). */
  readonly selector: Readonly<Record<string, string>>;
  readonly list: () => Promise<KubeList>;
  readonly watch: Watch;
  readonly sleeper: Sleeper;
  readonly backoff: Backoff;
  /** Server-side watch timeout for each watch request. */
  readonly timeoutSeconds: () => number;
  /** The items changed (after a list, or an ADDED/MODIFIED/DELETED event). */
  readonly onUpdate: () => void;
  /** A list succeeded or a watch connected: the collection is current again. */
  readonly onHealthy: () => void;
  readonly onError: (err: Error) => void;
}

type WatchOutcome = { readonly expired: boolean; readonly events: number };

/** HTTP status of a failed list (ApiException.code) or watch request (Error.statusCode). */
export function statusOf(err: unknown): number | undefined {
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e?.statusCode === 'number') return e.statusCode;
  if (typeof e?.code === 'number') return e.code;
  return undefined;
}

export class WatchedList {
  readonly items = new Map<string, KubeObject>();
  /** Last resourceVersion seen (list, event or bookmark); '' forces a relist. */
  resourceVersion = '';
  healthy = false;
  /** How many lists have been made (1 + relists). */
  lists = 0;
  readonly #o: WatchedListOptions;
  #controller: AbortController | undefined;
  #cancel: ((err: Error) => void) | undefined;

  constructor(opts: WatchedListOptions) {
    this.#o = opts;
  }

  async run(): Promise<void> {
    const o = this.#o;
    let quietCloses = 0;
    while (!o.sleeper.closed) {
      try {
        if (!this.resourceVersion) await this.#relist();
        const outcome = await this.#watchOnce();
        if (outcome.expired) {
          this.resourceVersion = '';
          continue;
        }
        // A server closing watches at once, again and again, must not make us spin.
        quietCloses = outcome.events > 0 ? 0 : quietCloses + 1;
        if (quietCloses >= 2) await o.sleeper.sleep(o.backoff.next());
      } catch (err) {
        if (o.sleeper.closed) return;
        if (statusOf(err) === 410) {
          this.resourceVersion = '';
          continue;
        }
        this.healthy = false;
        o.onError(new Error(`${o.what}: ${toError(err).message.split('\n')[0]}`, { cause: err }));
        await o.sleeper.sleep(o.backoff.next());
      }
    }
  }

  /** Aborts the open watch or pending list; run() returns once the sleeper is closed too. */
  stop(): void {
    this.#controller?.abort();
    this.#cancel?.(new Error('stopped'));
  }

  async #relist(): Promise<void> {
    const list = await this.#cancellable(this.#o.list());
    this.items.clear();
    for (const item of list.items ?? []) this.items.set(item.metadata?.name ?? '', item);
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    this.lists++;
    this.healthy = true;
    this.#o.onUpdate();
    this.#o.onHealthy();
  }

  #cancellable<T>(p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#cancel = reject;
      p.then(resolve, reject).finally(() => (this.#cancel = undefined));
    });
  }

  #watchOnce(): Promise<WatchOutcome> {
    const o = this.#o;
    const timeoutSeconds = o.timeoutSeconds();
    let events = 0;
    let expired = false;
    let settled = false;
    return this.#cancellable(
      new Promise<WatchOutcome>((resolve, reject) => {
        const finish = (err: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(watchdog);
          this.#controller?.abort();
          this.#controller = undefined;
          if (expired) resolve({ expired, events });
          else if (err) reject(err);
          else resolve({ expired, events });
        };
        // The server ends the watch after timeoutSeconds; a connection that goes silent past that is dead.
        const watchdog = setTimeout(() => finish(new Error('watch went silent past its timeout')), (timeoutSeconds + 30) * 1000);
        watchdog.unref();
        const query = { ...o.selector, resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds };
        o.watch
          .watch(o.path, query, (type: string, obj: KubeObject & { code?: number; reason?: string; message?: string }) => {
            if (settled || o.sleeper.closed) return;
            if (type === 'ERROR') {
              // The server ends the stream after a 410; do not wait for it to do so.
              if (obj?.code === 410) {
                expired = true;
                return finish(null);
              }
              return finish(new Error(`watch ERROR ${obj?.code ?? ''} ${obj?.reason ?? ''}: ${obj?.message ?? ''}`.trim()));
            }
            events++;
            const name = obj?.metadata?.name ?? '';
            if (type === 'ADDED' || type === 'MODIFIED') this.items.set(name, obj);
            else if (type === 'DELETED') this.items.delete(name);
            this.resourceVersion = obj?.metadata?.resourceVersion || this.resourceVersion;
            if (type !== 'BOOKMARK') o.onUpdate();
          }, (err: unknown) => finish(err))
          .then((controller) => {
            if (settled || o.sleeper.closed) return void controller.abort();
            this.#controller = controller;
            this.healthy = true;
            o.backoff.reset();
            o.onHealthy();
          }, finish);
      }),
    );
  }
}

