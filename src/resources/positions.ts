/**
 * Source positions: building the field-path → [line, column] map from a YAML document, and looking
 * up the position of a field (or of its nearest ancestor, for fields that are missing).
 */
import { isAlias, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import type { SourcePosition } from '../lib/index.ts';
import type { FieldPositions, Resource } from './types.ts';

type Positions = Map<string, readonly [number, number]>;

/** Walks a YAML node, recording the position of every mapping key and sequence item. */
export function collectPositions(root: Node | null, lineCounter: LineCounter): Positions {
  const out: Positions = new Map();
  const at = (offset: number): readonly [number, number] => {
    const p = lineCounter.linePos(offset);
    return [p.line, p.col];
  };
  const walk = (node: unknown, path: string): void => {
    if (isAlias(node)) return;
    if (isMap(node)) {
      for (const pair of node.items) {
        const keyNode = pair.key;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const p = path ? `${path}.${key}` : key;
        const range = (keyNode as Node | null)?.range;
        if (range) out.set(p, at(range[0]));
        walk(pair.value, p);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const p = `${path}[${i}]`;
        const range = (item as Node | null)?.range;
        if (range) out.set(p, at(range[0]));
        walk(item, p);
      });
    }
  };
  if (root?.range) out.set('', at(root.range[0]));
  walk(root, '');
  return out;
}

/** The positions under `prefix` (e.g. `items[2]`), re-keyed relative to it. */
export function subPositions(positions: FieldPositions, prefix: string): Positions {
  const out: Positions = new Map();
  for (const [key, pos] of positions) {
    if (key === prefix) out.set('', pos);
    else if (key.startsWith(`${prefix}.`)) out.set(key.slice(prefix.length + 1), pos);
    else if (key.startsWith(`${prefix}[`)) out.set(key.slice(prefix.length), pos);
  }
  return out;
}

/** Strips the last segment of a field path: `a.b[1]` → `a.b`, `a.b` → `a`, `a` → ``. */
export function parentField(field: string): string {
  const m = /(\.[^.[\]]*|\[\d+\])$/.exec(field);
  if (m) return field.slice(0, m.index);
  return '';
}

/**
 * Position of `field` in a resource's source, falling back to its nearest ancestor that is present
 * (a missing field points at the object that lacks it) and finally to the document start.
 */
export function positionOf(resource: Pick<Resource, 'positions' | 'source'>, field: string): SourcePosition {
  let f = field;
  for (;;) {
    const p = resource.positions.get(f);
    if (p) return { file: resource.source.file, line: p[0], column: p[1] };
    if (f === '') return { ...resource.source };
    f = parentField(f);
  }
}
