/**
 * TrafficPolicy (ferry.dev/v1alpha1): how Ferry talks to a Service or Backend (balancing and
 * affinity, active health checks, outlier detection, panic threshold, circuit breaking, retries,
 * locality failover, connect timeout). Attaches with `targetRefs` (Gateway API policy attachment,
 * same namespace). Every field maps 1:1 onto the snapshot's BackendPolicy; defaults are filled in
 * by compile.
 */
import { z } from 'zod';
import { parseDuration } from '../lib/index.ts';
import { FERRY_GROUP } from './backend.ts';
import { group, headerName, kindName, namespaceName, objectName, portNumber, sectionName, stringMap } from './schema-common.ts';

export const RETRY_ON = ['connect-failure', 'reset', '5xx', 'gateway-error', 'retriable-status-codes'] as const;
export const LOAD_BALANCER_TYPES = ['RoundRobin', 'LeastRequest', 'Random', 'RingHash', 'Maglev'] as const;

function durationIssue(value: string, positive: boolean): string | undefined {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (err) {
    return (err as Error).message;
  }
  return positive && ms === 0 ? `must be longer than 0 (got "${value}")` : undefined;
}

/** A GEP-2257 duration longer than zero. */
const positiveDuration = z.string().superRefine((v, ctx) => {
  const problem = durationIssue(v, true);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
/** A GEP-2257 duration; "0s" allowed (it means "none"). */
const anyDuration = z.string().superRefine((v, ctx) => {
  const problem = durationIssue(v, false);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** An HTTP status (`200`) or an inclusive range (`"200-299"`), as [from, to]; or why not. */
export function statusRange(v: unknown): readonly [number, number] | string {
  const ok = (n: number): boolean => Number.isInteger(n) && n >= 100 && n <= 599;
  if (typeof v === 'number') return ok(v) ? [v, v] : `must be an HTTP status 100-599 (got ${v})`;
  if (typeof v !== 'string') return 'must be a status such as 200 or a range such as "200-299"';
  const m = /^(\d{3})(?:-(\d{3}))?$/.exec(v);
  if (!m) return `must be a status such as 200 or a range such as "200-299" (got "${v}")`;
  const from = Number(m[1]);
  const to = Number(m[2] ?? m[1]);
  if (!ok(from) || !ok(to)) return `statuses must be 100-599 (got "${v}")`;
  if (from > to) return `range must go from low to high (got "${v}")`;
  return [from, to];
}

const targetRef = z
  .object({ group, kind: kindName, name: objectName, sectionName: sectionName.optional(), namespace: namespaceName.optional() })
  .superRefine((t, ctx) => {
    const g = t.group === 'core' ? '' : t.group;
    const service = g === '' && t.kind === 'Service';
    const backend = g === FERRY_GROUP && t.kind === 'Backend';
    if (!service && !backend) {
      ctx.addIssue({ code: 'custom', path: ['kind'], message: `${t.kind} (group "${t.group}") cannot be targeted; use kind Service (group "") or kind Backend (group ${FERRY_GROUP})` });
    }
    if (backend && t.sectionName !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['sectionName'], message: 'sectionName applies to Service ports only' });
    }
    if (t.namespace !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['namespace'], message: "must not be set: a TrafficPolicy targets resources in its own namespace" });
    }
  });
export type PolicyTargetRef = z.infer<typeof targetRef>;

const hashOn = z
  .object({
    cookie: z
      .object({
        name: z.string().min(1).max(256).regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, { error: 'must be a valid cookie name' }),
        ttl: anyDuration.optional(),
        path: z.string().startsWith('/', { error: 'must start with "/"' }).max(1024).optional(),
      })
      .optional(),
    header: z.object({ name: headerName }).optional(),
    sourceIP: z.object({}).optional(),
    queryParameter: z.object({ name: z.string().min(1).max(256) }).optional(),
  })
  .superRefine((h, ctx) => {
    const set = Object.keys(h).filter((k) => h[k as keyof typeof h] !== undefined);
    if (set.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `exactly one of cookie, header, sourceIP or queryParameter is required${set.length > 1 ? ` (found ${set.join(', ')})` : ''}` });
    }
    const ttl = h.cookie?.ttl;
    if (ttl !== undefined && durationIssue(ttl, false) === undefined && parseDuration(ttl) % 1000 !== 0) {
      ctx.addIssue({ code: 'custom', path: ['cookie', 'ttl'], message: `must be whole seconds (got "${ttl}")` });
    }
  });

const loadBalancer = z
  .object({ type: z.enum(LOAD_BALANCER_TYPES).optional(), hashOn: hashOn.optional(), ringSize: z.int().min(1).max(8_388_608).optional() })
  .superRefine((lb, ctx) => {
    const type = lb.type ?? 'RoundRobin';
    const hashing = type === 'RingHash' || type === 'Maglev';
    if (hashing && lb.hashOn === undefined) ctx.addIssue({ code: 'custom', message: `hashOn is required for type ${type}` });
    if (!hashing && lb.hashOn !== undefined) ctx.addIssue({ code: 'custom', path: ['hashOn'], message: `hashOn needs type RingHash or Maglev (type is ${type})` });
    if (type !== 'RingHash' && lb.ringSize !== undefined) ctx.addIssue({ code: 'custom', path: ['ringSize'], message: `ringSize applies to type RingHash only (type is ${type})` });
  });

const healthCheck = z
  .object({
    http: z
      .object({
        path: z.string().startsWith('/', { error: 'must start with "/"' }).max(1024).optional(),
        host: z.string().min(1).max(253).optional(),
        expectedStatuses: z
          .array(
            z.unknown().superRefine((v, ctx) => {
              const r = statusRange(v);
              if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
            }),
          )
          .min(1)
          .max(16)
          .optional(),
      })
      .optional(),
    tcp: z.object({}).optional(),
    grpc: z.object({ service: z.string().max(253).optional() }).optional(),
    interval: positiveDuration.optional(),
    timeout: positiveDuration.optional(),
    healthyThreshold: z.int().min(1).max(100).optional(),
    unhealthyThreshold: z.int().min(1).max(100).optional(),
    port: portNumber.optional(),
  })
  .superRefine((h, ctx) => {
    const set = (['http', 'tcp', 'grpc'] as const).filter((k) => h[k] !== undefined);
    if (set.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `exactly one of http, tcp or grpc is required${set.length > 1 ? ` (found ${set.join(', ')})` : ''}` });
    }
  });

const count = z.int().min(0).max(1_000_000);
const percent = z.int().min(0).max(100);

const outlierDetection = z
  .object({
    consecutive5xx: count.optional(),
    consecutiveGatewayErrors: count.optional(),
    consecutiveConnectFailures: count.optional(),
    interval: positiveDuration.optional(),
    baseEjectionTime: positiveDuration.optional(),
    maxEjectionTime: positiveDuration.optional(),
    maxEjectionPercent: percent.optional(),
  })
  .superRefine((o, ctx) => {
    if (o.baseEjectionTime === undefined || o.maxEjectionTime === undefined) return;
    if (durationIssue(o.baseEjectionTime, true) || durationIssue(o.maxEjectionTime, true)) return;
    if (parseDuration(o.baseEjectionTime) > parseDuration(o.maxEjectionTime)) {
      ctx.addIssue({ code: 'custom', path: ['maxEjectionTime'], message: `must not be shorter than baseEjectionTime (${o.baseEjectionTime})` });
    }
  });

const limit = z.int().min(1).max(2_147_483_647);

const circuitBreaker = z.object({
  maxConnections: limit.optional(),
  maxPendingRequests: limit.optional(),
  maxRequests: limit.optional(),
  maxRetries: z.int().min(0).max(2_147_483_647).optional(),
});

const retry = z
  .object({
    attempts: z.int().min(0).max(10).optional(),
    perTryTimeout: anyDuration.optional(),
    retryOn: z.array(z.enum(RETRY_ON)).min(1).max(RETRY_ON.length).optional(),
    retriableStatusCodes: z.array(z.int().min(100).max(599)).min(1).max(32).optional(),
    backoff: anyDuration.optional(),
    budget: z.object({ percent: z.number().min(0).max(100).optional(), minConcurrency: z.int().min(0).max(1_000_000).optional() }).optional(),
    retryNonIdempotent: z.boolean().optional(),
  })
  .superRefine((r, ctx) => {
    const on = r.retryOn ?? [];
    on.forEach((v, i) => {
      if (on.indexOf(v) !== i) ctx.addIssue({ code: 'custom', path: ['retryOn', i], message: `"${v}" is listed twice` });
    });
    if (r.retryOn !== undefined && r.retriableStatusCodes !== undefined && !on.includes('retriable-status-codes')) {
      ctx.addIssue({ code: 'custom', path: ['retryOn'], message: 'must include "retriable-status-codes" when retriableStatusCodes is set' });
    }
    if (on.includes('retriable-status-codes') && r.retriableStatusCodes === undefined) {
      ctx.addIssue({ code: 'custom', path: ['retryOn'], message: '"retriable-status-codes" needs retriableStatusCodes' });
    }
  });

const locality = z.object({
  priorities: z
    .array(
      z.object({
        matchLabels: stringMap.refine((m) => Object.keys(m).length > 0, { error: 'must have at least one label' }),
      }),
    )
    .min(1)
    .max(8),
  minHealthyPercent: percent.optional(),
});

export const trafficPolicySpec = z
  .object({
    targetRefs: z.array(targetRef).min(1).max(16),
    loadBalancer: loadBalancer.optional(),
    healthCheck: healthCheck.optional(),
    outlierDetection: outlierDetection.optional(),
    panicThreshold: percent.optional(),
    circuitBreaker: circuitBreaker.optional(),
    retry: retry.optional(),
    locality: locality.optional(),
    connectTimeout: positiveDuration.optional(),
  })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.targetRefs.forEach((t, i) => {
      const key = `${t.group === 'core' ? '' : t.group}/${t.kind}/${t.namespace ?? ''}/${t.name}/${t.sectionName ?? ''}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['targetRefs', i], message: 'duplicate targetRef' });
      seen.add(key);
    });
  });
export type TrafficPolicySpec = z.infer<typeof trafficPolicySpec>;
