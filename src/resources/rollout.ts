/**
 * Rollout (ferry.dev/v1alpha1): schema and types for a progressive migration of one route rule from
 * a stable backend to a candidate backend: mirror and compare, then weighted, header-gated or sticky
 * steps, each gated on analysis (success rate, latency against stable, response diff rate), with
 * automatic rollback. Only the shape and its limits live here; what the fields mean at run time
 * (defaults, step traffic, analysis) lives in src/rollout/.
 */
import { z } from 'zod';
import { parseDuration } from '../lib/index.ts';
import {
  backendObjectRefShape,
  duration,
  headerName,
  objectName,
  preciseHostname,
  regexString,
  requirePortForService,
  sectionName,
} from './schema-common.ts';

const GW = 'gateway.networking.k8s.io';
const FERRY = 'ferry.dev';

/**
 * A JSON path pattern for diff ignore rules: `$`, then `.key`, `["any key"]`, `[3]`, or `*` /
 * `[*]` wildcards for any key or index. A matched field is ignored together with everything under it.
 */
export const JSON_PATH_PATTERN = /^\$(\.[A-Za-z_$][A-Za-z0-9_$-]*|\.\*|\[\d+\]|\[\*\]|\["(?:[^"\\]|\\.)*"\])*$/;

const jsonPathPattern = z.string().max(1024).regex(JSON_PATH_PATTERN, {
  error: 'must be a JSON path such as "$.meta.generatedAt", "$.items[*].id" or "$[\\"odd key\\"]" (* matches any key or index)',
});

/** A non-zero duration, optionally bounded above. */
function positiveDuration(maxMs?: number, maxText?: string) {
  return duration.superRefine((value, ctx) => {
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch {
      return; // reported by `duration`
    }
    if (ms <= 0) ctx.addIssue({ code: 'custom', message: 'must be greater than zero' });
    else if (maxMs !== undefined && ms > maxMs) ctx.addIssue({ code: 'custom', message: `must be at most ${maxText}` });
  });
}

const targetRef = z
  .object({
    group: z.literal(GW).optional(),
    kind: z.enum(['HTTPRoute', 'GRPCRoute']),
    name: objectName,
    /** Rule index, or the rule's name. Optional when the route has a single rule. */
    rule: z.union([z.int().min(0).max(15), sectionName], { error: 'must be a rule index (0-15) or a rule name' }).optional(),
  });
export type RolloutTargetRef = z.infer<typeof targetRef>;

/**
 * A backend like a route's backendRef: a core Service (port required) or a ferry.dev Backend, in the
 * Rollout's namespace unless `namespace` says otherwise (then a ReferenceGrant there must allow it).
 */
const rolloutBackendRef = z
  .object({
    group: backendObjectRefShape.group,
    kind: backendObjectRefShape.kind,
    name: objectName,
    namespace: backendObjectRefShape.namespace,
    port: backendObjectRefShape.port,
  })
  .superRefine((ref, ctx) => {
    const g = ref.group ?? '';
    const kind = ref.kind ?? 'Service';
    const service = (g === '' || g === 'core') && kind === 'Service';
    const backend = g === FERRY && kind === 'Backend';
    if (!service && !backend) {
      ctx.addIssue({ code: 'custom', path: ['kind'], message: `must be a Service or a ${FERRY} Backend (got ${g || 'core'}/${kind})` });
      return;
    }
    requirePortForService(ref, ctx);
  });
export type RolloutBackendRef = z.infer<typeof rolloutBackendRef>;

const percent = z.number().min(0).max(100);

const analysis = z
  .object({
    /** How often checks run. Default 1s. */
    interval: positiveDuration(3_600_000, '1h').optional(),
    /** Sliding window each check looks at. Default 10s. */
    window: positiveDuration(300_000, '5m').optional(),
    /** Samples needed on each side before a check can pass or fail. Default 50. */
    minSamples: z.int().min(1).max(1_000_000).optional(),
    successRate: z.object({ min: percent }).optional(),
    latency: z
      .object({
        percentile: z.literal([50, 90, 95, 99]).optional(),
        maxRatio: z.number().min(1).max(1000).optional(),
        maxMs: z.number().positive().max(3_600_000).optional(),
        /** maxRatio never judges differences smaller than this many ms (timer jitter on fast services). Default 5. */
        toleranceMs: z.number().min(0).max(60_000).optional(),
      })
      .superRefine((l, ctx) => {
        if (l.maxRatio === undefined && l.maxMs === undefined) {
          ctx.addIssue({ code: 'custom', message: 'set maxRatio (against stable), maxMs, or both' });
        }
      })
      .optional(),
    diff: z.object({ maxRate: percent }).optional(),
    /** Failed checks tolerated over a run before rolling back. Default 0. */
    failureLimit: z.int().min(0).max(1000).optional(),
  })
  .superRefine((a, ctx) => {
    if (a.interval === undefined || a.window === undefined) return;
    try {
      if (parseDuration(a.window) < parseDuration(a.interval)) {
        ctx.addIssue({ code: 'custom', path: ['window'], message: `window (${a.window}) must be at least the interval (${a.interval})` });
      }
    } catch {
      // reported by the fields themselves
    }
  });
export type RolloutAnalysis = z.infer<typeof analysis>;

const mirror = z.object({
  /** Largest response body compared; larger bodies compare by status and headers only. Default 64 KiB. */
  maxBodyBytes: z.int().min(0).max(16 * 1024 * 1024).optional(),
  /** Mirror POST/PUT/PATCH/DELETE too (they may have side effects twice). Default false. */
  allowUnsafeMethods: z.boolean().optional(),
  /** Host header for mirrored requests: null or absent keeps the original. */
  host: preciseHostname.nullable().optional(),
  ignore: z
    .object({
      headers: z.array(headerName).max(64).optional(),
      fields: z.array(jsonPathPattern).max(64).optional(),
    })
    .optional(),
  /** Send a second copy to stable to learn which fields differ by themselves. Default true. */
  noise: z.boolean().optional(),
});
export type RolloutMirror = z.infer<typeof mirror>;

const headerMatch = z.object({
  type: z.enum(['Exact', 'RegularExpression']).optional(),
  name: headerName,
  value: z.string().max(4096),
});

const hashOn = z
  .object({
    cookie: z.object({ name: z.string().min(1).max(256).regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, { error: 'must be a valid cookie name' }) }).optional(),
    header: z.object({ name: headerName }).optional(),
  })
  .superRefine((h, ctx) => {
    if ((h.cookie === undefined) === (h.header === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'set exactly one of cookie or header' });
    }
  });

const STEP_KINDS = ['mirror', 'weight', 'pause', 'headerGate', 'sticky'] as const;

export const rolloutStep = z
  .strictObject({
    mirror: z.object({ percent: z.int().min(1).max(100), duration: positiveDuration().optional() }).optional(),
    weight: z.int().min(0).max(100).optional(),
    /** Only with `weight`: hold the weight at least this long. */
    duration: positiveDuration().optional(),
    pause: z.object({ duration: positiveDuration().optional() }).optional(),
    headerGate: z
      .object({
        headers: z.array(headerMatch).min(1).max(16),
        duration: positiveDuration().optional(),
      })
      .superRefine((g, ctx) => {
        const seen = new Set<string>();
        g.headers.forEach((h, i) => {
          const key = h.name.toLowerCase();
          if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['headers', i, 'name'], message: `header "${h.name}" is matched twice` });
          seen.add(key);
          if (h.type === 'RegularExpression') {
            const r = regexString.safeParse(h.value);
            if (!r.success) ctx.addIssue({ code: 'custom', path: ['headers', i, 'value'], message: r.error.issues[0].message });
          }
        });
      })
      .optional(),
    sticky: z.object({ percent: z.int().min(0).max(100), hashOn, duration: positiveDuration().optional() }).optional(),
  })
  .superRefine((step, ctx) => {
    const set = STEP_KINDS.filter((k) => step[k] !== undefined);
    if (set.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: set.length === 0
          ? `a step must be one of ${STEP_KINDS.join(', ')}`
          : `a step must set exactly one of ${STEP_KINDS.join(', ')} (has ${set.join(' and ')})`,
      });
    }
    if (step.duration !== undefined && step.weight === undefined) {
      ctx.addIssue({ code: 'custom', path: ['duration'], message: 'duration at step level only goes with weight; other steps take it inside their own mapping' });
    }
  });
export type RolloutStep = z.infer<typeof rolloutStep>;

export const rolloutSpec = z
  .object({
    targetRef,
    stable: rolloutBackendRef,
    candidate: rolloutBackendRef,
    analysis: analysis.optional(),
    mirror: mirror.optional(),
    steps: z.array(rolloutStep).min(1).max(32),
  })
  .superRefine((spec, ctx) => {
    const s = spec.stable;
    const c = spec.candidate;
    const same =
      (s.group ?? '') === (c.group ?? '') && (s.kind ?? 'Service') === (c.kind ?? 'Service') && s.name === c.name &&
      (s.namespace ?? '') === (c.namespace ?? '') && s.port === c.port;
    if (same) {
      ctx.addIssue({ code: 'custom', path: ['candidate'], message: 'candidate must be a different backend from stable' });
    }
    spec.steps.forEach((step, i) => {
      if (step.mirror !== undefined && spec.analysis?.diff === undefined && spec.analysis?.successRate === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'mirror'],
          message: 'a mirror step needs analysis.diff or analysis.successRate to judge the candidate by',
        });
      }
    });
  });
export type RolloutSpec = z.infer<typeof rolloutSpec>;
