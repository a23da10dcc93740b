/**
 * Finds fields a schema does not know (typos such as `backendRef:` for `backendRefs:`, or features
 * from a newer Gateway API that Ferry ignores) so they can be reported as warnings instead of being
 * dropped silently. Walks the zod schema alongside the raw value.
 */
import type { z } from 'zod';
import { fieldPath } from '../lib/index.ts';

type Path = (string | number)[];

interface Def {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly shape?: Record<string, z.ZodType>;
  readonly element?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

function walk(schema: z.ZodType, value: unknown, path: Path, out: string[]): void {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
      if (def.innerType) walk(def.innerType, value, path, out);
      return;
    case 'pipe':
      if (def.in) walk(def.in, value, path, out);
      return;
    case 'array':
      if (Array.isArray(value) && def.element) value.forEach((v, i) => walk(def.element as z.ZodType, v, [...path, i], out));
      return;
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value) || !def.shape) return;
      for (const [key, v] of Object.entries(value)) {
        const child = def.shape[key];
        if (child) walk(child, v, [...path, key], out);
        else out.push(fieldPath([...path, key]));
      }
      return;
    }
    default:
      return;
  }
}

/** Field paths (relative to `value`) of keys `schema` does not define, below the given root keys. */
export function unknownFields(schema: z.ZodType, value: Record<string, unknown>, roots: readonly string[]): string[] {
  const shape = defOf(schema).shape ?? {};
  const out: string[] = [];
  for (const key of roots) {
    const child = shape[key];
    if (child && value[key] !== undefined) walk(child, value[key], [key], out);
  }
  return out;
}
