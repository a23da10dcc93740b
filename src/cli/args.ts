/** Parsing of the command-line values shared by several commands (binds, addresses, durations). */
import { parseDuration } from '../lib/index.ts';

export interface HostPort { host: string; port: number }

/** `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all addresses). */
export function parseHostPort(text: string, what: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`${what}: expected HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080), got "${text}"`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** `NAMESPACE/GATEWAY/PORT=HOST:PORT`, repeatable; the key is `namespace/gateway/port`. */
export function parseBinds(values: readonly string[]): Map<string, HostPort> {
  const binds = new Map<string, HostPort>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const m = eq > 0 ? /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\/(\d{1,5})$/.exec(v.slice(0, eq)) : null;
    if (!m) throw new Error(`--bind: expected NAMESPACE/GATEWAY/PORT=HOST:PORT (e.g. default/edge/80=127.0.0.1:8080), got "${v}"`);
    const key = `${m[1]}/${m[3]}/${Number(m[5])}`;
    if (binds.has(key)) throw new Error(`--bind: ${key} is given twice`);
    binds.set(key, parseHostPort(v.slice(eq + 1), `--bind ${key}`));
  }
  return binds;
}

export function parseDurationOption(text: string, what: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  }
}
