/**
 * Keeps what is serving when an edit breaks it. Each load of the configuration is merged with the
 * previous effective set: a file that no longer parses keeps its previous resources, and a resource
 * that became invalid keeps its previous valid version, so one typo never takes down a route that was
 * working. Deleting a file or a resource still removes it: only broken input is held back.
 */
import type { ConfigError } from '../lib/index.ts';

/** The little the store needs to know about a resource. */
export interface StoredResource {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly source: { readonly file: string };
}

export interface LoadResult<R extends StoredResource> {
  readonly resources: readonly R[];
  readonly errors: readonly ConfigError[];
}

export interface MergeResult<R extends StoredResource> {
  /** What compile should see: the new valid resources plus the held-back last good versions. */
  readonly resources: readonly R[];
  /** One warning per held-back resource, saying why the previous version is still in use. */
  readonly held: readonly ConfigError[];
}

export interface LastGoodStore<R extends StoredResource> {
  merge(load: LoadResult<R>): MergeResult<R>;
  /** The effective set of the last merge. */
  current(): readonly R[];
}

const keyOf = (kind: string, namespace: string | undefined, name: string) => `${kind}/${namespace ?? 'default'}/${name}`;

export function createLastGoodStore<R extends StoredResource>(): LastGoodStore<R> {
  let effective: readonly R[] = [];

  return {
    current: () => effective,
    merge(load) {
      const out: R[] = [...load.resources];
      const present = new Set(out.map((r) => keyOf(r.kind, r.metadata.namespace, r.metadata.name)));
      const held: ConfigError[] = [];
      const brokenFiles = new Set<string>();
      const brokenResources = new Map<string, ConfigError>();
      for (const e of load.errors) {
        if (e.severity !== 'error') continue;
        if (!e.kind || !e.name) brokenFiles.add(e.file);
        else brokenResources.set(keyOf(e.kind, e.namespace, e.name), e);
      }
      for (const prev of effective) {
        const key = keyOf(prev.kind, prev.metadata.namespace, prev.metadata.name);
        if (present.has(key)) continue;
        const why = brokenFiles.has(prev.source.file)
          ? `${prev.source.file} could not be read; keeping the last good version`
          : brokenResources.has(key)
            ? 'the new version is invalid; keeping the last good version'
            : null;
        if (why === null) continue;
        out.push(prev);
        present.add(key);
        held.push({
          file: prev.source.file, line: 0, column: 0, kind: prev.kind, namespace: prev.metadata.namespace,
          name: prev.metadata.name, field: '', message: why, severity: 'warning',
        });
      }
      effective = out;
      return { resources: out, held };
    },
  };
}
