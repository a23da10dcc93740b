/**
 * TLS for HTTPS sockets: one SecureContext per certificate, chosen by SNI (exact names, then the
 * longest matching wildcard, else the first listener's first certificate), TLS 1.2 restricted to
 * ECDHE with AEAD ciphers, ALPN h2 and http/1.1. The SNI callback never throws (CVE-2026-21637).
 */
import tls, { type SecureContext } from 'node:tls';
import type { SocketSpec, TlsSpec } from '../../snapshot/index.ts';

export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export const ALPN = ['h2', 'http/1.1'];

interface Entry { readonly context: SecureContext; readonly minVersion: TlsSpec['minVersion'] }

export interface TlsRuntime {
  /** Options for the server's default context. */
  readonly defaults: tls.SecureContextOptions;
  select(servername: string): Entry;
}

function contextOptions(certPem: string, keyPem: string, minVersion: TlsSpec['minVersion']): tls.SecureContextOptions {
  return { cert: certPem, key: keyPem, minVersion, ciphers: TLS12_CIPHERS, honorCipherOrder: true };
}

/** Builds the SNI table for a socket; throws when the socket has no certificate at all. */
export function buildTls(spec: SocketSpec): TlsRuntime {
  const exact = new Map<string, Entry>();
  const wildcards: { suffix: string; entry: Entry }[] = [];
  let first: { entry: Entry; options: tls.SecureContextOptions } | null = null;
  let lowest: TlsSpec['minVersion'] = 'TLSv1.3';
  for (const l of spec.listeners) {
    const t = l.tls;
    if (t === undefined) continue;
    if (t.minVersion === 'TLSv1.2') lowest = 'TLSv1.2';
    for (const cert of t.certificates) {
      const options = contextOptions(cert.certPem, cert.keyPem, t.minVersion);
      const entry: Entry = { context: tls.createSecureContext(options), minVersion: t.minVersion };
      first ??= { entry, options };
      const names = cert.serverNames.length > 0 ? cert.serverNames : l.hostname !== undefined ? [l.hostname] : [];
      for (const raw of names) {
        const name = raw.toLowerCase();
        if (name.startsWith('*.')) wildcards.push({ suffix: name.slice(1), entry });
        else if (!exact.has(name)) exact.set(name, entry);
      }
    }
  }
  if (first === null) throw new Error('HTTPS socket has no certificate');
  wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
  const fallback = first.entry;
  return {
    defaults: { ...first.options, minVersion: lowest },
    select(servername: string): Entry {
      const name = servername.toLowerCase().replace(/\.$/, '');
      const e = exact.get(name);
      if (e !== undefined) return e;
      for (const w of wildcards) {
        // A certificate wildcard covers exactly one label (RFC 6125 §6.4.3).
        if (name.endsWith(w.suffix) && name.length > w.suffix.length && !name.slice(0, -w.suffix.length).includes('.')) return w.entry;
      }
      return fallback;
    },
  };
}
