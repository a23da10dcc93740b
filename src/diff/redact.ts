/**
 * Removes secrets from what the diff keeps to show people: credential headers, cookie values, and
 * JSON fields whose key looks like a password, secret, token, API key or authorization.
 */
import type { ComparedResponse, Difference } from './compare.ts';

export const REDACTED = '<redacted>';

/** JSON keys whose values are never kept. */
export const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|authorization/i;

const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization']);
const COOKIE_HEADERS: ReadonlySet<string> = new Set(['cookie', 'set-cookie']);
/** Longest body text kept in a sample. */
const MAX_BODY_TEXT = 4096;

/** A response as kept in a sample: headers flattened and redacted, body redacted or summarised. */
export interface SampleResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Redacted JSON text (possibly truncated), or `<N bytes, not JSON>` for other bodies. */
  readonly body: string;
}

function redactCookies(value: string, header: string): string {
  const list = header === 'cookie' ? value.split(';') : [value];
  return list
    .map((c) => {
      const name = c.split(';', 1)[0].split('=', 1)[0].trim();
      return `${name}=${REDACTED}`;
    })
    .join(header === 'cookie' ? '; ' : '');
}

export function redactHeaders(headers: ComparedResponse['headers'], on = true): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [raw, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const name = raw.toLowerCase();
    const values = typeof value === 'string' ? [value] : value;
    if (!on) out[name] = values.join(', ');
    else if (CREDENTIAL_HEADERS.has(name)) out[name] = REDACTED;
    else if (COOKIE_HEADERS.has(name)) out[name] = values.map((v) => redactCookies(v, name)).join(', ');
    else out[name] = values.join(', ');
  }
  return out;
}

/** A copy of a JSON value with every field whose key matches `secretKey` replaced. */
export function redactJson(value: unknown, secretKey: RegExp = SECRET_KEY): unknown {
  if (Array.isArray(value)) return value.map((v) => redactJson(v, secretKey));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = secretKey.test(k) ? REDACTED : redactJson(v, secretKey);
  return out;
}

/** True when a difference's field names a secret (a credential header or a secret-looking JSON key). */
function secretField(field: string, secretKey: RegExp): boolean {
  if (field.startsWith('header.')) {
    const name = field.slice(7);
    return CREDENTIAL_HEADERS.has(name) || name === 'cookie';
  }
  if (!field.startsWith('$')) return false;
  const keys = field.match(/\.([A-Za-z_$][A-Za-z0-9_$-]*)|\["((?:[^"\\]|\\.)*)"\]/g) ?? [];
  return keys.some((k) => secretKey.test(k));
}

export function redactDifference(d: Difference, secretKey: RegExp = SECRET_KEY): Difference {
  if (!secretField(d.field, secretKey)) return d;
  return {
    field: d.field,
    kind: d.kind,
    ...(d.primary !== undefined ? { primary: REDACTED } : {}),
    ...(d.candidate !== undefined ? { candidate: REDACTED } : {}),
  };
}

function bodyText(r: ComparedResponse, secretKey: RegExp | null): string {
  if (r.body.length === 0) return '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.body.toString('utf8'));
  } catch {
    return `<${r.body.length} bytes, not JSON>`;
  }
  const text = JSON.stringify(secretKey ? redactJson(parsed, secretKey) : parsed);
  return text.length > MAX_BODY_TEXT ? `${text.slice(0, MAX_BODY_TEXT)}...` : text;
}

/** A response reduced to what a sample may keep. `secretKey` null keeps everything (tests, local debugging). */
export function sampleResponse(r: ComparedResponse, secretKey: RegExp | null = SECRET_KEY): SampleResponse {
  const headers = redactHeaders(r.headers, secretKey !== null);
  if (r.contentType !== undefined) headers['content-type'] = r.contentType;
  return { status: r.status, headers, body: bodyText(r, secretKey) };
}
