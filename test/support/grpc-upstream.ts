/**
 * gRPC upstream for tests (@grpc/grpc-js): `ferry.test.Echo` (Say, Count, Fail) from
 * protos/echo.proto plus the standard `grpc.health.v1.Health/Check`, and a small promise-based client.
 */
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import type { RecordedRequest, Upstream } from './upstreams.ts';

const PROTOS = fileURLToPath(new URL('./protos/', import.meta.url));
const LOAD_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

interface EchoReply { message: string; server: string }
type HealthStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

let loaded: { echo: grpc.ServiceClientConstructor; health: grpc.ServiceClientConstructor } | undefined;

function services() {
  if (!loaded) {
    const def = protoLoader.loadSync([`${PROTOS}echo.proto`, `${PROTOS}health.proto`], LOAD_OPTIONS);
    const root = grpc.loadPackageDefinition(def);
    const ferry = (root.ferry as grpc.GrpcObject).test as grpc.GrpcObject;
    const health = ((root.grpc as grpc.GrpcObject).health as grpc.GrpcObject).v1 as grpc.GrpcObject;
    loaded = { echo: ferry.Echo as grpc.ServiceClientConstructor, health: health.Health as grpc.ServiceClientConstructor };
  }
  return loaded;
}

export interface GrpcServerOptions {
  /** Reported as `server` in every EchoReply; default `grpc`. */
  name?: string;
}

export interface GrpcUpstream extends Upstream {
  /** `127.0.0.1:<port>`, the form gRPC clients take. */
  readonly address: string;
  /** Sets what Health/Check answers for a service (`''` is the whole server). */
  setHealth(service: string, status: HealthStatus): void;
}

function recordCall(requests: RecordedRequest[], call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): void {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = Buffer.isBuffer(v) ? v.toString('base64') : v;
  const peer = call.getPeer();
  requests.push({
    method: 'POST',
    url: call.getPath(),
    headers,
    rawHeaders: [],
    body: Buffer.alloc(0),
    httpVersion: '2.0',
    remotePort: Number(peer.slice(peer.lastIndexOf(':') + 1)) || 0,
  });
}

/** Starts a gRPC server on 127.0.0.1 port 0. */
export async function startGrpcServer(opts: GrpcServerOptions = {}): Promise<GrpcUpstream> {
  const name = opts.name ?? 'grpc';
  const requests: RecordedRequest[] = [];
  const health = new Map<string, HealthStatus>([['', 'SERVING'], ['ferry.test.Echo', 'SERVING']]);
  const { echo, health: healthService } = services();
  const server = new grpc.Server();
  server.addService(echo.service, {
    Say(call: grpc.ServerUnaryCall<{ message: string }, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) {
      recordCall(requests, call);
      cb(null, { message: call.request.message, server: name });
    },
    Count(call: grpc.ServerWritableStream<{ n: number }, { i: number }>) {
      recordCall(requests, call);
      for (let i = 1; i <= call.request.n; i++) call.write({ i });
      call.end();
    },
    Fail(call: grpc.ServerUnaryCall<{ code: number; message: string }, EchoReply>, cb: grpc.sendUnaryData<EchoReply>) {
      recordCall(requests, call);
      cb({ code: call.request.code || grpc.status.UNKNOWN, details: call.request.message || 'failed on purpose' });
    },
  });
  server.addService(healthService.service, {
    Check(call: grpc.ServerUnaryCall<{ service: string }, { status: HealthStatus }>, cb: grpc.sendUnaryData<{ status: HealthStatus }>) {
      recordCall(requests, call);
      const status = health.get(call.request.service);
      if (!status) return cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      cb(null, { status });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  let closed = false;
  return {
    url: `http://127.0.0.1:${port}`,
    address: `127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    requests,
    setHealth(service, status) {
      health.set(service, status);
    },
    async close() {
      if (closed) return;
      closed = true;
      server.forceShutdown();
    },
  };
}

export interface GrpcClientOptions {
  /** `:authority` to send (the Host Ferry routes on); default the address. */
  authority?: string;
  /** Deadline of each call; default 5000 ms. */
  deadlineMs?: number;
}

export interface CallOptions {
  metadata?: Record<string, string>;
  deadlineMs?: number;
}

export interface GrpcTestClient {
  say(message: string, opts?: CallOptions): Promise<EchoReply>;
  /** Collects the stream; resolves with every `i` received (1..n). */
  count(n: number, opts?: CallOptions): Promise<number[]>;
  /** Rejects with the grpc ServiceError carrying `code`. */
  fail(code: number, message?: string, opts?: CallOptions): Promise<EchoReply>;
  /** Health/Check status name, e.g. `SERVING`. */
  health(service?: string, opts?: CallOptions): Promise<HealthStatus>;
  /** The underlying grpc-js clients, for anything else. */
  readonly echo: grpc.Client;
  close(): void;
}

type UnaryMethod<Req, Res> = (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => void;

/** A client for the test Echo and Health services at `address` (`host:port` or `http://host:port`). */
export function createGrpcClient(address: string, opts: GrpcClientOptions = {}): GrpcTestClient {
  const target = address.replace(/^https?:\/\//, '').replace(/\/$/, '');
  const channelOptions: grpc.ChannelOptions = opts.authority ? { 'grpc.default_authority': opts.authority } : {};
  const { echo: EchoClient, health: HealthClient } = services();
  const echo = new EchoClient(target, grpc.credentials.createInsecure(), channelOptions);
  const health = new HealthClient(target, grpc.credentials.createInsecure(), channelOptions);
  const callOpts = (o?: CallOptions): [grpc.Metadata, grpc.CallOptions] => {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(o?.metadata ?? {})) md.set(k, v);
    return [md, { deadline: Date.now() + (o?.deadlineMs ?? opts.deadlineMs ?? 5000) }];
  };
  const unary = <Req, Res>(client: grpc.Client, method: string, req: Req, o?: CallOptions): Promise<Res> =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, UnaryMethod<Req, Res>>)[method].bind(client);
      fn(req, ...callOpts(o), (err, res) => (err ? reject(err) : resolve(res as Res)));
    });
  return {
    echo,
    say: (message, o) => unary(echo, 'Say', { message }, o),
    fail: (code, message = '', o) => unary(echo, 'Fail', { code, message }, o),
    health: async (service = '', o) => (await unary<{ service: string }, { status: HealthStatus }>(health, 'Check', { service }, o)).status,
    count: (n, o) =>
      new Promise((resolve, reject) => {
        const [md, co] = callOpts(o);
        const stream = (echo as unknown as Record<string, (r: unknown, m: grpc.Metadata, c: grpc.CallOptions) => grpc.ClientReadableStream<{ i: number }>>).Count.call(echo, { n }, md, co);
        const seen: number[] = [];
        stream.on('data', (m: { i: number }) => seen.push(m.i));
        stream.on('error', reject);
        stream.on('end', () => resolve(seen));
      }),
    close() {
      echo.close();
      health.close();
    },
  };
}
