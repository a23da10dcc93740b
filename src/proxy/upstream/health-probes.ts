/**
 * One active health probe each: HTTP GET over HTTP/1.1 (a fresh connection, closed after the status
 * line) or over h2c for h2c backends, a TCP connect, or gRPC `grpc.health.v1.Health/Check` over h2c.
 * The gRPC messages are framed by hand: the request is field 1 (`service`, a string) of
 * HealthCheckRequest; the response is healthy when field 1 of HealthCheckResponse (`status`) is
 * SERVING (1) and grpc-status is 0. Each resolves true/false and never rejects; the caller aborts
 * it on timeout through the signal.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { HealthCheckSpec, UpstreamProtocol } from '../../snapshot/index.ts';

export interface ProbeTarget {
  readonly address: string;
  readonly port: number;
}

const USER_AGENT = 'ferry-health-check';

function origin(t: ProbeTarget): string {
  return `http://${t.address.includes(':') ? `[${t.address}]` : t.address}:${t.port}`;
}

function statusOk(spec: HealthCheckSpec, status: number): boolean {
  for (const [lo, hi] of spec.expectedStatuses) if (status >= lo && status <= hi) return true;
  return false;
}

export function probe(spec: HealthCheckSpec, protocol: UpstreamProtocol, t: ProbeTarget, signal: AbortSignal): Promise<boolean> {
  switch (spec.type) {
    case 'TCP': return probeTcp(t, signal);
    case 'GRPC': return probeGrpc(spec, t, signal);
    default: return protocol === 'h2c' ? probeH2(spec, t, signal) : probeHttp(spec, t, signal);
  }
}

function probeHttp(spec: HealthCheckSpec, t: ProbeTarget, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request({
      host: t.address, port: t.port, path: spec.path, method: 'GET', agent: false, signal,
      headers: { host: spec.host ?? t.address, 'user-agent': USER_AGENT, connection: 'close' },
    }, (res) => {
      resolve(statusOk(spec, res.statusCode ?? 0));
      res.destroy();
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

function probeTcp(t: ProbeTarget, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: t.address, port: t.port });
    const done = (ok: boolean) => { signal.removeEventListener('abort', onAbort); s.destroy(); resolve(ok); };
    const onAbort = () => done(false);
    signal.addEventListener('abort', onAbort);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Runs one h2c request; `check` decides from status, body and trailers. */
function h2Request(t: ProbeTarget, signal: AbortSignal, headers: http2.OutgoingHttpHeaders, body: Buffer | null,
  check: (status: number, body: Buffer, grpcStatus: string | undefined) => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const session = http2.connect(origin(t));
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      session.destroy();
      resolve(ok);
    };
    const onAbort = () => done(false);
    signal.addEventListener('abort', onAbort);
    session.on('error', () => done(false));
    session.on('close', () => done(false));
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream: body === null });
    } catch {
      return done(false);
    }
    let status = 0;
    let grpcStatus: string | undefined;
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      status = Number(h[':status']);
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
    });
    stream.on('trailers', (h) => { if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']); });
    stream.on('data', (c: Buffer) => { if (chunks.length < 16) chunks.push(c); });
    stream.on('end', () => done(check(status, Buffer.concat(chunks), grpcStatus)));
    stream.on('error', () => done(false));
    if (body !== null) stream.end(body);
  });
}

function probeH2(spec: HealthCheckSpec, t: ProbeTarget, signal: AbortSignal): Promise<boolean> {
  return h2Request(t, signal, {
    ':method': 'GET', ':path': spec.path, ':scheme': 'http', ':authority': spec.host ?? t.address, 'user-agent': USER_AGENT,
  }, null, (status) => statusOk(spec, status));
}

function probeGrpc(spec: HealthCheckSpec, t: ProbeTarget, signal: AbortSignal): Promise<boolean> {
  return h2Request(t, signal, {
    ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', ':scheme': 'http', ':authority': spec.host ?? t.address,
    'content-type': 'application/grpc', te: 'trailers', 'user-agent': USER_AGENT,
  }, grpcHealthRequest(spec.grpcService), (status, body, grpcStatus) =>
    status === 200 && grpcStatus === '0' && grpcServingStatus(body) === SERVING);
}

export const SERVING = 1;

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n >>>= 7; }
  out.push(n);
  return out;
}

/** A length-prefixed gRPC message holding HealthCheckRequest{service}. */
export function grpcHealthRequest(service: string): Buffer {
  const s = Buffer.from(service, 'utf8');
  const msg = s.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, ...varint(s.length)]), s]);
  const frame = Buffer.alloc(5 + msg.length);
  frame.writeUInt32BE(msg.length, 1);
  msg.copy(frame, 5);
  return frame;
}

/** `status` of the HealthCheckResponse in a gRPC response body, 0 (UNKNOWN) when absent, -1 when malformed. */
export function grpcServingStatus(body: Buffer): number {
  if (body.length < 5 || body[0] !== 0) return -1;
  const len = body.readUInt32BE(1);
  if (body.length < 5 + len) return -1;
  const msg = body.subarray(5, 5 + len);
  let i = 0;
  let status = 0;
  const readVarint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (i >= msg.length || shift > 28) throw new Error('bad varint');
      const b = msg[i++];
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
      shift += 7;
    }
  };
  try {
    while (i < msg.length) {
      const tag = readVarint();
      const wire = tag & 7;
      if (wire === 0) { const v = readVarint(); if (tag >>> 3 === 1) status = v; }
      else if (wire === 2) { const len = readVarint(); i += len; }
      else if (wire === 1) i += 8;
      else if (wire === 5) i += 4;
      else return -1;
    }
  } catch {
    return -1;
  }
  return i === msg.length ? status : -1;
}
