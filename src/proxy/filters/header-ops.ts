/** Set/add/remove on flat `[name, value, ...]` header lists, shared by both header modifier filters. */
import type { HeaderModifierFilter } from '../../snapshot/index.ts';

export interface HeaderOps {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
}

export function compileHeaderOps(spec: HeaderModifierFilter): HeaderOps {
  return {
    set: spec.set.map((h) => [h.name.toLowerCase(), h.value] as const),
    add: spec.add.map((h) => [h.name.toLowerCase(), h.value] as const),
    remove: spec.remove.map((n) => n.toLowerCase()),
  };
}

export function removeHeader(headers: string[], name: string): void {
  let w = 0;
  for (let r = 0; r < headers.length; r += 2) {
    if (headers[r] === name) continue;
    if (w !== r) { headers[w] = headers[r]; headers[w + 1] = headers[r + 1]; }
    w += 2;
  }
  headers.length = w;
}

// HOT PATH (only for routes that configure header modifiers)
export function applyHeaderOps(ops: HeaderOps, headers: string[]): void {
  for (const [name, value] of ops.set) {
    removeHeader(headers, name);
    headers.push(name, value);
  }
  for (const [name, value] of ops.add) {
    let found = false;
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i] === name) { headers[i + 1] = headers[i + 1] + ',' + value; found = true; break; }
    }
    if (!found) headers.push(name, value);
  }
  for (const name of ops.remove) removeHeader(headers, name);
}
