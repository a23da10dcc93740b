/** The load scenarios: what each one sends, through which front, to which targets, and which scenario holds its reference rows. */
import type { Front } from './servers.ts';
import { middleRoutePath } from './ferry-config.ts';

export interface LoadScenario {
  id: string;
  title: string;
  front: Front;
  path: string;
  tool: 'wrk' | 'h2load' | 'paced';
  /** Default targets, in table order. A target may carry a ferry option: `ferry@routes=1000`, `ferry@node=/usr/bin/node`. */
  targets: string[];
  /** Pace wrk connections (fixed-rate scenario): ms between requests on each connection. */
  delayMs?: number;
  /** wrk sends `Connection: close`: every request opens a new connection (the cost of accepting and closing). */
  newConnections?: boolean;
  /** Requests per second for paced-load (open-loop fixed-rate scenarios). */
  rate?: number;
  /** Hold the PM QoS CPU latency request at 0 during the rounds, so idle CPUs poll instead of halting (bench/lib/cpu-latency.ts). */
  awakeCpus?: boolean;
  /** Rounds this scenario runs at least (when more than one is asked for): its figures are noisier than the rest. */
  minRuns?: number;
  /** Scenario whose nginx/HAProxy/direct rows are the reference when this one has none. */
  refScenario?: string;
  /** Direct in this scenario is measured against this path and plain HTTP (TLS scenarios). */
  note?: string;
}

const H1 = ['direct', 'nginx', 'haproxy', 'ferry', 'node-floor', 'fastify-http-proxy', 'http-proxy'];
/** The fixed-rate scenarios: every HTTP/1.1 target and the features-on Ferry; with the CPUs held awake, the proxies that keep up best. */
const FIXED_RATE = ['direct', 'nginx', 'haproxy', 'ferry', 'ferry-full', 'node-floor', 'fastify-http-proxy', 'http-proxy'];
const FIXED_RATE_AWAKE = ['direct', 'nginx', 'haproxy', 'ferry', 'ferry-full'];

const RATE_5K: LoadScenario = {
  id: 'rate-5k', title: 'Fixed rate 5,000 req/s, open loop (paced-load: Poisson arrivals, 64 connections), 100 B', front: 'http', path: '/', tool: 'paced', rate: 5000, minRuns: 5,
  targets: FIXED_RATE,
  note: 'Latency at a moderate fixed rate: read the added p50/p99 over direct, not req/s (every target gets the same rate). Requests start at their scheduled times whatever the responses do, and latency counts from the scheduled start.',
};

const FIXED_5K: LoadScenario = {
  id: 'fixed-5k', title: 'Bursts at ≈ 5k req/s (wrk, 64 connections, exponentially distributed gaps of mean 12 ms per connection, millisecond timers), 100 B', front: 'http', path: '/', tool: 'wrk', delayMs: 12, minRuns: 5,
  targets: FIXED_RATE,
  note: 'wrk times its pauses in whole milliseconds, so the requests due in one millisecond leave together: half of the requests arrive with 7 or more others and 1 % with 18 or more. The added p99 here is how fast each proxy drains such a burst; rate-5k is the same rate without the bursts.',
};

/** A fixed-rate scenario's twin with idle CPUs polling instead of halting (the PM QoS hold), for the proxies that keep up best. */
function awake(s: LoadScenario, load: string, why = ''): LoadScenario {
  return {
    ...s, id: `${s.id}-awake`, awakeCpus: true, targets: FIXED_RATE_AWAKE,
    title: `${load} as in ${s.id}, with idle CPUs polling instead of halting (PM QoS CPU latency 0), 100 B`,
    note: `The same load as ${s.id}, with \`/dev/cpu_dma_latency\` held at 0${why ? ` ${why}` : '.'}`,
  };
}

export const LOAD_SCENARIOS: LoadScenario[] = [
  { id: 'http-100b', title: 'HTTP/1.1, 100 B response, 64 connections', front: 'http', path: '/', tool: 'wrk', targets: H1 },
  { id: 'http-new-conn', title: 'HTTP/1.1, 100 B response, a new connection per request (`Connection: close`), 64 at a time', front: 'http', path: '/', tool: 'wrk',
    newConnections: true, targets: ['direct', 'nginx', 'haproxy', 'ferry', 'fastify-http-proxy'],
    note: 'Each request is a TCP connection accepted, served once and closed by the proxy (the upstream side stays keep-alive): what clients without keep-alive, health checkers and short-lived jobs cost.' },
  { id: 'http-1k', title: 'HTTP/1.1, 1 KiB response, 64 connections', front: 'http', path: '/1k', tool: 'wrk', targets: H1 },
  { id: 'http-64k', title: 'HTTP/1.1, 64 KiB response, 64 connections (upstream sendfile off)', front: 'http', path: '/64k', tool: 'wrk', targets: H1 },
  {
    id: 'https-1k', title: 'HTTPS termination (TLS, ECDSA P-256), 1 KiB response, 64 connections', front: 'https', path: '/1k', tool: 'wrk', targets: H1,
    note: 'direct is plain HTTP to the upstream (the ceiling without TLS); the upstream side is plain HTTP for every proxy.',
  },
  { id: 'h2-tls', title: 'HTTP/2 over TLS front (h2load -c16 -m8), 1 KiB, HTTP/1.1 upstream', front: 'h2', path: '/1k', tool: 'h2load', targets: ['nginx', 'haproxy', 'ferry'],
    note: 'h2load reports no percentiles: the p50 column is the mean and the p99 column is the max.' },
  { id: 'h2c', title: 'HTTP/2 cleartext front (h2c, prior knowledge; h2load -c16 -m8), 1 KiB, HTTP/1.1 upstream', front: 'h2c', path: '/1k', tool: 'h2load', targets: ['nginx', 'haproxy', 'ferry'],
    note: 'h2load reports no percentiles: the p50 column is the mean and the p99 column is the max.' },
  { id: 'grpc', title: 'gRPC unary over h2c (h2load -c16 -m8) to a @grpc/grpc-js server, 100 B messages', front: 'grpc', path: '/bench.Echo/Unary', tool: 'h2load',
    targets: ['direct', 'nginx', 'haproxy', 'ferry'],
    note: 'The upstream is a Node gRPC server on CPU 1, so direct is far below the nginx upstream ceiling. p50 = mean, p99 = max (h2load).' },
  RATE_5K,
  awake(RATE_5K, 'Fixed rate 5,000 req/s', 'as latency tests do: a request that reaches an idle virtual CPU no longer waits for it to wake, so the added latency is the proxy\'s own work and queueing.'),
  FIXED_5K,
  awake(FIXED_5K, 'Bursts at ≈ 5k req/s'),
  { id: 'routes', title: 'Ferry route-table size: 10 vs 1,000 vs 10,000 PathPrefix routes, request hits the middle one, 100 B', front: 'http', path: '', tool: 'wrk',
    targets: ['ferry@routes=10', 'ferry@routes=1000', 'ferry@routes=10000'], refScenario: 'http-100b' },
  { id: 'ferry-full', title: 'Ferry with features on: 90/10 weighted split, RequestHeaderModifier, metrics, access log to a file, 100 B', front: 'http', path: '/', tool: 'wrk',
    targets: ['direct', 'nginx', 'haproxy', 'ferry', 'ferry-full', 'fastify-http-proxy'],
    note: 'nginx, HAProxy and @fastify/http-proxy run in the same rounds, so the features-on ratios are per-round ratios, like the headline.' },
  { id: 'two-cores', title: 'Both cores: each proxy with one worker on CPU 0 vs two workers (nginx `worker_processes 2`, HAProxy `nbthread 2`, Ferry `--workers 2`) on CPUs 0-1, sharing CPU 1 with the upstream and wrk, 100 B', front: 'http', path: '/', tool: 'wrk',
    targets: ['nginx', 'nginx@workers=2', 'haproxy', 'haproxy@workers=2', 'ferry', 'ferry@workers=2'],
    note: 'The load generator and the upstream share CPU 1 with the second worker, so the gain is capped well below what two free cores give; the ceiling below says by how much. CPU µs/req and RSS cover every process of a proxy (nginx master and workers, Ferry primary and workers).' },
  { id: 'node-versions', title: 'Ferry on Node 20 (system) vs the pinned Node 24, 100 B', front: 'http', path: '/', tool: 'wrk',
    targets: ['ferry@node=/usr/bin/node', 'ferry'], refScenario: 'http-100b' },
];

/** Scenarios that are not a load run through targets. */
export const OTHER_SCENARIOS = ['idle-conns', 'control-plane'] as const;

export const ALL_SCENARIO_IDS = [...LOAD_SCENARIOS.map((s) => s.id), ...OTHER_SCENARIOS];

export interface TargetSpec { label: string; base: string; routes?: number; node?: string; workers?: number }

/** `ferry@routes=1000` → base target `ferry` with options; the label is what the table shows. */
export function parseTargetSpec(spec: string): TargetSpec {
  const [base, ...opts] = spec.split('@');
  const out: TargetSpec = { label: spec, base: base! };
  for (const o of opts) {
    const [k, v] = o.split('=');
    if (k === 'routes') { out.routes = Number(v); out.label = `${base} (${Number(v).toLocaleString('en-US')} routes)`; }
    if (k === 'node') { out.node = v; out.label = `${base} on ${v}`; }
    if (k === 'workers') { out.workers = Number(v); out.label = `${base} (${Number(v)} ${base === 'haproxy' ? 'threads' : 'workers'})`; }
  }
  return out;
}

/** The path a target in a scenario requests (the route scenario asks for a route in the middle of the table). */
export function requestPath(s: LoadScenario, t: TargetSpec): string {
  if (t.routes) return middleRoutePath(t.routes);
  return s.path || '/';
}
