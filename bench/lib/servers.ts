/** The native servers of the bench: the nginx upstream (CPU 1), nginx and HAProxy as reference proxies (CPU 0), and the TLS cert. */
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnPinned, runCapture, waitTcp, withFdLimit, fdHardLimit, type Spawned } from './proc.ts';

export const PROXY_CPU = 0;
export const UPSTREAM_CPU = 1;

/** Where a proxy with `workers` processes or threads runs: CPU 0 alone, or both CPUs for more than one. */
export const proxyCpus = (workers = 1): number | string => (workers > 1 ? `${PROXY_CPU},${UPSTREAM_CPU}` : PROXY_CPU);

/** The 100-byte body the upstream returns for every path but /1k and /64k. */
export const BODY_100B = 'x'.repeat(99) + '\n';

export interface Tls { cert: string; key: string; pem: string }

/** Self-signed ECDSA P-256 certificate for 127.0.0.1 / localhost. */
export async function makeCert(dir: string): Promise<Tls> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const r = await runCapture('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '30', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  if (r.code !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  const pem = join(dir, 'haproxy.pem');
  writeFileSync(pem, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'));
  return { cert, key, pem };
}

function nginxCommon(dir: string, name: string, workers = 1): string {
  const tmp = join(dir, `${name}-tmp`);
  mkdirSync(tmp, { recursive: true });
  return `daemon off;
master_process ${workers > 1 ? 'on' : 'off'};
worker_processes ${workers};
worker_rlimit_nofile ${Math.min(65_536, fdHardLimit())};
pid ${join(dir, `${name}.pid`)};
error_log ${join(dir, `${name}-error.log`)} warn;
events { worker_connections ${Math.min(30_000, fdHardLimit() - 100)}; }
`;
}

function nginxHttpCommon(dir: string, name: string): string {
  const tmp = join(dir, `${name}-tmp`);
  return `  access_log off;
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
  client_body_temp_path ${tmp}/body; proxy_temp_path ${tmp}/proxy; fastcgi_temp_path ${tmp}/fcgi;
  uwsgi_temp_path ${tmp}/uwsgi; scgi_temp_path ${tmp}/scgi;
  default_type application/octet-stream;
`;
}

async function startNginx(dir: string, name: string, conf: string, cpu: number | string, port: number): Promise<Spawned> {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, conf);
  const p = spawnPinned(cpu, ...withFdLimit('nginx', ['-p', dir, '-c', file, '-e', join(dir, `${name}-error.log`)]));
  if (!(await waitTcp(port, 5000))) {
    await p.stop();
    let log = '';
    try { log = readFileSync(join(dir, `${name}-error.log`), 'utf8'); } catch { /* none */ }
    throw new Error(`nginx (${name}) did not listen on ${port}: ${p.output()} ${log}`.trim());
  }
  return p;
}

/** nginx upstream on CPU 1: `return 200` with 100 B, static 1 KiB and 64 KiB files with sendfile off. */
export async function startUpstream(dir: string, port: number): Promise<Spawned> {
  const www = join(dir, 'www');
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, '1k'), 'a'.repeat(1023) + '\n');
  writeFileSync(join(www, '64k'), 'b'.repeat(65535) + '\n');
  const conf = `${nginxCommon(dir, 'upstream')}
http {
${nginxHttpCommon(dir, 'upstream')}
  sendfile off;
  tcp_nopush off;
  open_file_cache max=100 inactive=600s;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    root ${www};
    location = /1k { }
    location = /64k { }
    location / { return 200 "${BODY_100B.trim()}\\n"; }
  }
}
`;
  return startNginx(dir, 'upstream', conf, UPSTREAM_CPU, port);
}

export type Front = 'http' | 'https' | 'h2' | 'h2c' | 'grpc';

/** nginx as a proxy on CPU 0 (both CPUs with more than one worker): keepalive upstream pool, HTTP/1.1 upstream, big proxy buffers. */
export async function startNginxProxy(dir: string, port: number, upstreamPort: number, front: Front, tls: Tls, workers = 1): Promise<Spawned> {
  const listen =
    front === 'https' ? `${port} ssl` : front === 'h2' ? `${port} ssl http2` : front === 'h2c' || front === 'grpc' ? `${port} http2` : `${port}`;
  const location =
    front === 'grpc'
      ? `grpc_pass grpc://up;`
      : `proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffers 4 64k;`;
  const conf = `${nginxCommon(dir, 'nginx-proxy', workers)}
http {
${nginxHttpCommon(dir, 'nginx-proxy')}
  http2_max_requests 1000000000;
  upstream up {
    server 127.0.0.1:${upstreamPort};
    keepalive 256;
    keepalive_requests 1000000000;
  }
  server {
    listen 127.0.0.1:${listen} backlog=4096;
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    location / {
      ${location}
    }
  }
}
`;
  return startNginx(dir, 'nginx-proxy', conf, proxyCpus(workers), port);
}

/** HAProxy on CPU 0 (both CPUs with more than one thread): one thread per worker, http-reuse always, forwardfor. */
export async function startHaproxy(dir: string, port: number, upstreamPort: number, front: Front, tls: Tls, threads = 1): Promise<Spawned> {
  const bind =
    front === 'https' ? `ssl crt ${tls.pem} alpn http/1.1` : front === 'h2' ? `ssl crt ${tls.pem} alpn h2,http/1.1` : front === 'h2c' || front === 'grpc' ? 'proto h2' : '';
  const server = front === 'grpc' ? 'proto h2' : '';
  const conf = `global
  nbthread ${threads}
  maxconn ${Math.floor((Math.min(65_536, fdHardLimit()) - 200) / 2)}
  log stderr format raw local0 err

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
  http-reuse always
  option forwardfor

frontend fe
  bind 127.0.0.1:${port} ${bind}
  default_backend be

backend be
  server s1 127.0.0.1:${upstreamPort} ${server}
`;
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, conf);
  const p = spawnPinned(proxyCpus(threads), ...withFdLimit('haproxy', ['-db', '-f', file]));
  if (!(await waitTcp(port, 5000))) {
    await p.stop();
    throw new Error(`haproxy did not listen on ${port}: ${p.output()}`);
  }
  return p;
}
