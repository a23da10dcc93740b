/**
 * The one shape every configuration problem takes, from a YAML syntax error to a dangling backendRef:
 * where it is (file, line, column), what it is about (kind, namespace, name, field path) and why.
 */

export interface SourcePosition {
  file: string;
  /** 1-based line, 0 when unknown. */
  line: number;
  /** 1-based column, 0 when unknown. */
  column: number;
}

export interface ConfigError extends SourcePosition {
  kind?: string;
  namespace?: string;
  name?: string;
  /** Dotted field path such as `spec.rules[0].backendRefs[1].port`; empty for the whole document. */
  field: string;
  message: string;
  /** `error` rejects the resource (or part of it); `warning` is reported and the resource is kept. */
  severity: 'error' | 'warning';
}

/** Renders `file:line:column: Kind ns/name: field: message`, the format the CLI and logs print. */
export function formatConfigError(e: ConfigError): string {
  const where = e.line > 0 ? `${e.file}:${e.line}:${e.column}` : e.file;
  const ns = e.namespace === '' ? '' : `${e.namespace ?? 'default'}/`;
  const what = e.kind ? ` ${e.kind}${e.name ? ` ${ns}${e.name}` : ''}` : '';
  const field = e.field ? ` ${e.field}:` : '';
  const sev = e.severity === 'warning' ? ' warning:' : '';
  return `${where}:${what}${sev}${field} ${e.message}`;
}

/** Renders a field path array (`['spec','rules',0,'matches']`) as `spec.rules[0].matches`. */
export function fieldPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${p}` : p;
  }
  return out;
}
