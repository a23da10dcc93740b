/**
 * A real DNS server for discovery tests: dnsmasq on 127.0.0.1 and a free port (UDP and TCP),
 * answering only from the records given (A/AAAA from an addn-hosts file, SRV from `--srv-host`),
 * with a short `--local-ttl`, and NXDOMAIN for other names in the same top-level domains.
 * update() rewrites the hosts file and sends SIGHUP (dnsmasq rereads addn-hosts on SIGHUP); SRV
 * records and domains are command-line options, so changing those restarts it on the same port.
 * Needs the `dnsmasq` binary (Debian `dnsmasq-base`, installed by .ci/run).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface SrvRecord {
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

export interface DnsRecords {
  /** name → IPv4 addresses. */
  A?: Record<string, string[]>;
  /** name → IPv6 addresses. */
  AAAA?: Record<string, string[]>;
  /** name (e.g. `_http._tcp.api.ferry.test`) → records. */
  SRV?: Record<string, SrvRecord[]>;
}

export interface DnsServerOptions {
  records: DnsRecords;
  /** TTL of every answer, in seconds (default 1). */
  ttlSeconds?: number;
}

export interface DnsServer {
  /** `127.0.0.1:<port>`, for `Resolver.setServers`. */
  readonly server: string;
  readonly port: number;
  /** Serves these records instead (reload, or restart when SRV records or domains change). */
  update(records: DnsRecords): Promise<void>;
  /** Stops answering (the port is left free); start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const CANDIDATES = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq', '/sbin/dnsmasq'];

/** The dnsmasq binary, or undefined when it is not installed. */
export function findDnsmasq(): string | undefined {
  const found = CANDIDATES.find((p) => existsSync(p));
  if (found) return found;
  const which = spawnSync('sh', ['-c', 'command -v dnsmasq'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : undefined;
}

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const binary = findDnsmasq();
  if (!binary) throw new Error('dnsmasq is not installed (Debian: apt-get install dnsmasq-base; .ci/run does this)');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-dns-'));
  const hostsFile = path.join(dir, 'hosts');
  const ttl = opts.ttlSeconds ?? 1;
  let records = opts.records;
  let port = 0;
  let child: ChildProcess | undefined;
  let output = '';

  const args = () => [
    '--keep-in-foreground', '--log-facility=-', '--conf-file=/dev/null', '--pid-file=',
    `--user=${os.userInfo().username}`, '--no-resolv', '--no-hosts', '--no-negcache',
    `--addn-hosts=${hostsFile}`, '--listen-address=127.0.0.1', '--bind-interfaces', `--port=${port}`,
    `--local-ttl=${ttl}`,
    ...domains(records).map((d) => `--local=/${d}/`),
    ...Object.entries(records.SRV ?? {}).flatMap(([name, list]) =>
      list.map((r) => `--srv-host=${name},${r.target},${r.port},${r.priority ?? 0},${r.weight ?? 0}`)),
  ];

  const waitForOutput = (marker: string, from: number) =>
    new Promise<void>((resolve, reject) => {
      const c = child;
      if (!c) return reject(new Error('dnsmasq is not running'));
      const check = () => {
        if (output.indexOf(marker, from) >= 0) {
          cleanup();
          resolve();
        }
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`dnsmasq exited (${code}): ${output.slice(from).trim()}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`dnsmasq did not log "${marker}" within 5 s: ${output.slice(from).trim()}`));
      }, 5000);
      const cleanup = () => {
        clearTimeout(timer);
        c.stderr?.off('data', check);
        c.off('exit', onExit);
      };
      c.stderr?.on('data', check);
      c.once('exit', onExit);
      check();
    });

  async function spawnOnce(): Promise<void> {
    await writeFile(hostsFile, hostsText(records));
    const from = output.length;
    const c = spawn(binary!, args(), { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (d: string) => (output += d));
    c.once('exit', () => {
      if (child === c) child = undefined;
    });
    await waitForOutput(`read ${hostsFile}`, from);
  }

  async function start(): Promise<void> {
    if (child) return;
    const fixedPort = port !== 0;
    for (let attempt = 0; ; attempt++) {
      if (!fixedPort) port = await freeUdpTcpPort();
      try {
        return await spawnOnce();
      } catch (err) {
        // Another process took the port between probing and binding, or (same port after a stop)
        // the kernel has not released it yet: try again.
        if (attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async function stop(): Promise<void> {
    const c = child;
    if (!c) return;
    child = undefined;
    if (c.exitCode === null && c.signalCode === null) {
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      await exited;
    }
  }

  await start();
  return {
    server: `127.0.0.1:${port}`,
    port,
    async update(next) {
      const restart = JSON.stringify(next.SRV ?? {}) !== JSON.stringify(records.SRV ?? {}) ||
        domains(next).join() !== domains(records).join();
      records = next;
      if (!child) return void (await writeFile(hostsFile, hostsText(records)));
      if (restart) {
        await stop();
        return start();
      }
      await writeFile(hostsFile, hostsText(records));
      const from = output.length;
      const reread = waitForOutput(`read ${hostsFile}`, from);
      child.kill('SIGHUP');
      await reread;
    },
    stop,
    start,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function hostsText(records: DnsRecords): string {
  const lines: string[] = [];
  for (const [name, addrs] of Object.entries(records.A ?? {})) for (const a of addrs) lines.push(`${a} ${name}`);
  for (const [name, addrs] of Object.entries(records.AAAA ?? {})) for (const a of addrs) lines.push(`${a} ${name}`);
  return lines.join('\n') + '\n';
}

/** Top-level domains of every name, answered only locally (NXDOMAIN for unknown names). */
function domains(records: DnsRecords): string[] {
  const names = [...Object.keys(records.A ?? {}), ...Object.keys(records.AAAA ?? {}), ...Object.keys(records.SRV ?? {})];
  return [...new Set(['test', ...names.map((n) => n.split('.').filter(Boolean).pop()!)])].sort();
}

/** A port free for both UDP and TCP on 127.0.0.1. */
async function freeUdpTcpPort(): Promise<number> {
  for (;;) {
    const tcp = net.createServer();
    await new Promise<void>((resolve, reject) => tcp.once('error', reject).listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as AddressInfo).port;
    const udp = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (ok) await new Promise<void>((resolve) => udp.close(() => resolve()));
    else udp.close();
    if (ok) return port;
  }
}
