/**
 * HTTPS listener certificates: resolves `tls.certificateRefs` to Secrets (same namespace or allowed by
 * a ReferenceGrant), checks the PEM certificate and key, and extracts the DNS names used for SNI.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import {
  MIN_TLS_VERSION_OPTION,
  secretValue,
  TLS_SECRET_TYPE,
  type GatewayResource,
  type Listener,
} from '../resources/index.ts';
import type { TlsCertificate, TlsSpec } from '../snapshot/index.ts';
import type { RefProblem } from './diagnostics.ts';
import { GATEWAY_GROUP, nsName, referenceAllowed, type ResourceIndex } from './model.ts';

export interface ListenerTls {
  /** Undefined when no certificate could be used. */
  readonly tls?: TlsSpec;
  readonly problems: readonly RefProblem[];
}

/** DNS names from the certificate's subjectAltName, else its subject CN; lower-case. */
export function certificateServerNames(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (san) {
    const dns = san
      .split(/,\s*/)
      .filter((entry) => entry.startsWith('DNS:'))
      .map((entry) => entry.slice(4).toLowerCase());
    if (dns.length > 0) return [...new Set(dns)];
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject);
  return cn ? [cn[1].trim().toLowerCase()] : [];
}

function checkPem(certPem: string, keyPem: string): { serverNames: string[] } | string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return 'tls.crt is not a valid PEM certificate';
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    return 'tls.key is not a valid PEM private key';
  }
  if (!cert.checkPrivateKey(key)) return 'tls.key does not match the certificate in tls.crt';
  return { serverNames: certificateServerNames(cert) };
}

export function resolveListenerTls(index: ResourceIndex, gw: GatewayResource, l: Listener, listenerIndex: number): ListenerTls {
  const problems: RefProblem[] = [];
  const certificates: TlsCertificate[] = [];
  const refs = l.tls?.certificateRefs ?? [];
  refs.forEach((ref, j) => {
    const field = `spec.listeners[${listenerIndex}].tls.certificateRefs[${j}]`;
    const group = ref.group ?? '';
    const kind = ref.kind ?? 'Secret';
    const namespace = ref.namespace ?? gw.metadata.namespace;
    const id = nsName(namespace, ref.name);
    if ((group !== '' && group !== 'core') || kind !== 'Secret') {
      problems.push({ reason: 'InvalidCertificateRef', field, message: `certificateRef kind ${kind} (group "${group}") is not supported; use a Secret` });
      return;
    }
    const from = { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gw.metadata.namespace };
    if (!referenceAllowed(index, from, { group: '', kind: 'Secret', namespace, name: ref.name })) {
      problems.push({ reason: 'RefNotPermitted', field, message: `Secret ${id} is in another namespace and no ReferenceGrant there allows this Gateway to use it` });
      return;
    }
    const secret = index.secrets.get(id);
    if (!secret) {
      problems.push({ reason: 'InvalidCertificateRef', field, message: `Secret ${id} not found` });
      return;
    }
    if (secret.type !== TLS_SECRET_TYPE) {
      problems.push({ reason: 'InvalidCertificateRef', field, message: `Secret ${id} has type ${secret.type ?? 'Opaque'}; it must be ${TLS_SECRET_TYPE}` });
      return;
    }
    const certPem = secretValue(secret, 'tls.crt') ?? '';
    const keyPem = secretValue(secret, 'tls.key') ?? '';
    const checked = checkPem(certPem, keyPem);
    if (typeof checked === 'string') {
      problems.push({ reason: 'InvalidCertificateRef', field, message: `Secret ${id}: ${checked}` });
      return;
    }
    certificates.push({ secret: id, certPem, keyPem, serverNames: checked.serverNames });
  });
  if (certificates.length === 0) return { problems };
  const minVersion = l.tls?.options?.[MIN_TLS_VERSION_OPTION] === '1.3' ? 'TLSv1.3' : 'TLSv1.2';
  return { tls: { certificates, minVersion }, problems };
}
