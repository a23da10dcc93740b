/** ReplaceFullPath / ReplacePrefixMatch, shared by RequestRedirect and URLRewrite. */
import type { PathModifier } from '../../snapshot/index.ts';

/**
 * Element-wise prefix replacement (Gateway API): prefix `/foo` replaced by `/bar` turns `/foo/baz`
 * into `/bar/baz`; replaced by `/` it becomes `/baz`. Without a matched prefix the path is unchanged.
 */
export function replacePrefix(path: string, prefix: string | null, replacement: string): string {
  if (prefix === null) return path;
  const rest = prefix === '/' ? path : path.slice(prefix.length);
  const repl = replacement.endsWith('/') ? replacement.slice(0, -1) : replacement;
  const out = repl + rest;
  return out === '' ? '/' : out.charCodeAt(0) === 47 ? out : '/' + out;
}

export function applyPathModifier(mod: PathModifier, path: string, prefix: string | null): string {
  return mod.type === 'ReplaceFullPath' ? mod.value : replacePrefix(path, prefix, mod.value);
}
