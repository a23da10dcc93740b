/**
 * Reading configuration: multi-document YAML text → validated Resources and positioned ConfigErrors
 * (`parseYamlFiles`, pure), and files/directories → the same (`loadConfigPaths`). A bad document or
 * resource is reported and skipped; it never stops the others from loading.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments, type YAMLError } from 'yaml';
import type { ConfigError, SourcePosition } from '../lib/index.ts';
import { collectPositions, positionOf, subPositions } from './positions.ts';
import type { Resource } from './types.ts';
import { resourceFromObject } from './validate.ts';

export interface ConfigFile {
  readonly path: string;
  readonly text: string;
}

export interface ParseResult {
  readonly resources: Resource[];
  readonly errors: ConfigError[];
}

export interface LoadResult extends ParseResult {
  /** Every file that was read, in the order read. */
  readonly files: string[];
}

/** Identity of a resource: `Kind/namespace/name` (namespace empty for cluster-scoped kinds). */
export function resourceKey(r: Pick<Resource, 'kind' | 'metadata'>): string {
  return `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`;
}

function yamlProblem(file: string, e: YAMLError, lc: LineCounter, severity: 'error' | 'warning'): ConfigError {
  const p = lc.linePos(e.pos[0]);
  const message = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  return { file, line: p.line, column: p.col, field: '', message: `YAML: ${message}`, severity };
}

/** Parses YAML files (each possibly multi-document, `kind: List` expanded) into resources. */
export function parseYamlFiles(files: readonly ConfigFile[]): ParseResult {
  const resources: Resource[] = [];
  const errors: ConfigError[] = [];
  const seen = new Map<string, SourcePosition>();
  const accept = (r: Resource): void => {
    const key = resourceKey(r);
    const first = seen.get(key);
    if (first) {
      errors.push({
        ...r.source,
        kind: r.kind,
        namespace: r.metadata.namespace,
        name: r.metadata.name,
        field: 'metadata.name',
        message: `duplicate ${r.kind} ${r.metadata.namespace ? `${r.metadata.namespace}/` : ''}${r.metadata.name}: already defined at ${first.file}:${first.line}:${first.column}; this one is ignored`,
        severity: 'error',
        ...positionOf(r, 'metadata.name'),
      });
      return;
    }
    seen.set(key, r.source);
    resources.push(r);
  };
  for (const { path: file, text } of files) {
    const lineCounter = new LineCounter();
    const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false });
    const docs = Array.isArray(parsed) ? parsed : [];
    for (const doc of docs) {
      for (const w of doc.warnings) errors.push(yamlProblem(file, w, lineCounter, 'warning'));
      if (doc.errors.length > 0) {
        for (const e of doc.errors) errors.push(yamlProblem(file, e, lineCounter, 'error'));
        continue;
      }
      if (doc.contents === null) continue;
      let raw: unknown;
      try {
        raw = doc.toJS({ maxAliasCount: 1000 });
      } catch (e) {
        const p = lineCounter.linePos(doc.contents.range?.[0] ?? 0);
        errors.push({ file, line: p.line, column: p.col, field: '', message: `YAML: ${(e as Error).message}`, severity: 'error' });
        continue;
      }
      if (raw === null || raw === undefined) continue;
      const positions = collectPositions(doc.contents, lineCounter);
      const start = positions.get('') ?? [0, 0];
      const items = (raw as { kind?: unknown; items?: unknown }).items;
      if ((raw as { kind?: unknown }).kind === 'List' && Array.isArray(items)) {
        items.forEach((item, i) => {
          const sub = subPositions(positions, `items[${i}]`);
          const at = sub.get('') ?? start;
          const result = resourceFromObject(item, { source: { file, line: at[0], column: at[1] }, positions: sub });
          errors.push(...result.errors);
          if (result.resource) accept(result.resource);
        });
        continue;
      }
      const result = resourceFromObject(raw, { source: { file, line: start[0], column: start[1] }, positions });
      errors.push(...result.errors);
      if (result.resource) accept(result.resource);
    }
  }
  return { resources, errors };
}

async function listYamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listYamlFiles(full)));
    else if (e.isFile() && /\.ya?ml$/.test(e.name)) out.push(full);
  }
  return out;
}

/**
 * Reads files and directories (recursively: `*.yaml`, `*.yml`, sorted, dotfiles skipped) and parses
 * them. A path that cannot be read is reported as an error like any other.
 */
export async function loadConfigPaths(paths: readonly string[]): Promise<LoadResult> {
  const files: string[] = [];
  const contents: ConfigFile[] = [];
  const errors: ConfigError[] = [];
  for (const p of paths) {
    let list: string[];
    try {
      list = (await stat(p)).isDirectory() ? await listYamlFiles(p) : [p];
    } catch (e) {
      errors.push({ file: p, line: 0, column: 0, field: '', message: `cannot read: ${(e as Error).message}`, severity: 'error' });
      continue;
    }
    for (const file of list) {
      if (files.includes(file)) continue;
      try {
        contents.push({ path: file, text: await readFile(file, 'utf8') });
        files.push(file);
      } catch (e) {
        errors.push({ file, line: 0, column: 0, field: '', message: `cannot read: ${(e as Error).message}`, severity: 'error' });
      }
    }
  }
  const parsed = parseYamlFiles(contents);
  return { resources: parsed.resources, errors: [...errors, ...parsed.errors], files };
}
