/**
 * Throwaway TLS material for tests, made with the `openssl` CLI in a temporary directory: a CA and
 * leaf certificates (ECDSA P-256, valid two days) for servers and clients. Results are cached per
 * process, so asking twice for the same thing costs nothing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface CertificateAuthority {
  readonly name: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertOptions {
  commonName: string;
  dnsNames?: string[];
  ipAddresses?: string[];
}

export interface IssuedCert {
  readonly certPem: string;
  readonly keyPem: string;
  /** The issuing CA's certificate, to trust on the other side. */
  readonly caPem: string;
}

let dir: string | undefined;
let counter = 0;
const cas = new Map<string, CertificateAuthority>();
const certs = new Map<string, IssuedCert>();

function workDir(): string {
  if (!dir) {
    const created = mkdtempSync(join(tmpdir(), 'ferry-certs-'));
    dir = created;
    process.once('exit', () => rmSync(created, { recursive: true, force: true }));
  }
  return dir;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: workDir(), stdio: ['ignore', 'ignore', 'pipe'] });
}

const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A self-signed CA; the same name gives the same CA within a process. */
export function makeCa(name = 'Ferry Test CA'): CertificateAuthority {
  const cached = cas.get(name);
  if (cached) return cached;
  const base = join(workDir(), `ca-${++counter}`);
  openssl([
    'req', '-x509', '-new', ...NEW_KEY, '-keyout', `${base}.key`, '-out', `${base}.crt`, '-days', '2',
    '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const ca = { name, certPem: readFileSync(`${base}.crt`, 'utf8'), keyPem: readFileSync(`${base}.key`, 'utf8') };
  cas.set(name, ca);
  return ca;
}

/** A leaf certificate signed by `ca`, usable for both server and client authentication. */
export function makeCert(ca: CertificateAuthority, opts: CertOptions): IssuedCert {
  const key = JSON.stringify([ca.certPem, opts.commonName, opts.dnsNames ?? [], opts.ipAddresses ?? []]);
  const cached = certs.get(key);
  if (cached) return cached;
  const base = join(workDir(), `leaf-${++counter}`);
  writeFileSync(`${base}.ca.crt`, ca.certPem);
  writeFileSync(`${base}.ca.key`, ca.keyPem, { mode: 0o600 });
  const san = [...(opts.dnsNames ?? []).map((d) => `DNS:${d}`), ...(opts.ipAddresses ?? []).map((ip) => `IP:${ip}`)];
  const ext = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth,clientAuth',
    ...(san.length ? [`subjectAltName=${san.join(',')}`] : []),
  ];
  writeFileSync(`${base}.ext`, ext.join('\n') + '\n');
  openssl(['req', '-new', ...NEW_KEY, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${opts.commonName}`]);
  openssl([
    'x509', '-req', '-in', `${base}.csr`, '-CA', `${base}.ca.crt`, '-CAkey', `${base}.ca.key`,
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '2', '-sha256', '-extfile', `${base}.ext`, '-out', `${base}.crt`,
  ]);
  const issued = { certPem: readFileSync(`${base}.crt`, 'utf8'), keyPem: readFileSync(`${base}.key`, 'utf8'), caPem: ca.certPem };
  certs.set(key, issued);
  return issued;
}
