/**
 * Zod building blocks shared by the kind schemas: names, hostnames, ports, durations, regexes,
 * parent and backend references, header modifiers and label selectors. Each encodes a constraint of
 * the Gateway API CRDs (OpenAPI patterns and CEL rules) so a manifest a cluster would refuse is
 * refused here too, with the same field path.
 */
import { z } from 'zod';
import { compileFullMatch, parseDuration } from '../lib/index.ts';

const DNS_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
export const HOSTNAME_PATTERN = new RegExp(`^(\\*\\.)?${DNS_LABEL}(\\.${DNS_LABEL})*$`);
const PRECISE_HOSTNAME_PATTERN = new RegExp(`^${DNS_LABEL}(\\.${DNS_LABEL})*$`);
const HEADER_NAME_PATTERN = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

/** Kubernetes object name (DNS subdomain). */
export const objectName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, {
    error: 'must be a lowercase DNS subdomain (letters, digits, "-" and ".")',
  });

/** Kubernetes namespace name (DNS label). */
export const namespaceName = z
  .string()
  .min(1)
  .max(63)
  .regex(new RegExp(`^${DNS_LABEL}$`), { error: 'must be a lowercase DNS label (letters, digits and "-")' });

/** Listener and rule names (Gateway API SectionName). */
export const sectionName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, {
    error: 'must be a lowercase DNS subdomain (letters, digits, "-" and ".")',
  });

export const hostname = z.string().min(1).max(253).regex(HOSTNAME_PATTERN, {
  error: 'must be a lowercase DNS name, optionally starting with "*." (e.g. "example.com" or "*.example.com")',
});

export const preciseHostname = z.string().min(1).max(253).regex(PRECISE_HOSTNAME_PATTERN, {
  error: 'must be a lowercase DNS name without wildcard (e.g. "example.com")',
});

export const portNumber = z.int().min(1).max(65535);

export const group = z.string().max(253);
export const kindName = z.string().min(1).max(63).regex(/^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/, {
  error: 'must be a Kubernetes kind such as "Service"',
});

/** A GEP-2257 duration such as "10s" or "1m30s". */
export const duration = z.string().superRefine((value, ctx) => {
  try {
    parseDuration(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

/** A regular expression accepted by Ferry's linear-time engine. */
export const regexString = z.string().superRefine((value, ctx) => {
  try {
    compileFullMatch(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

export const headerName = z.string().min(1).max(256).regex(HEADER_NAME_PATTERN, {
  error: 'must be a valid HTTP header name (letters, digits and !#$%&\'*+-.^_`|~)',
});

export const parentRef = z.object({
  group: group.optional(),
  kind: kindName.optional(),
  namespace: namespaceName.optional(),
  name: objectName,
  sectionName: sectionName.optional(),
  port: portNumber.optional(),
});
export type ParentRef = z.infer<typeof parentRef>;

export const parentRefs = z
  .array(parentRef)
  .max(32)
  .superRefine((refs, ctx) => {
    const seen = new Set<string>();
    refs.forEach((r, i) => {
      const key = `${r.group ?? ''}/${r.kind ?? ''}/${r.namespace ?? ''}/${r.name}/${r.sectionName ?? ''}/${r.port ?? ''}`;
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: 'duplicate parentRef: sectionName or port must be unique when several parentRefs name the same parent',
        });
      }
      seen.add(key);
    });
  });

/** True when group/kind denote a core Service (the default for backendRefs). */
export function isServiceRef(ref: { group?: string; kind?: string }): boolean {
  const g = ref.group ?? '';
  return (g === '' || g === 'core') && (ref.kind ?? 'Service') === 'Service';
}

export function requirePortForService(ref: { group?: string; kind?: string; port?: number }, ctx: z.RefinementCtx): void {
  if (isServiceRef(ref) && ref.port === undefined) {
    ctx.addIssue({ code: 'custom', path: ['port'], message: 'port is required when referring to a Service' });
  }
}

export const backendObjectRefShape = {
  group: group.optional(),
  kind: kindName.optional(),
  name: objectName,
  namespace: namespaceName.optional(),
  port: portNumber.optional(),
};

export const backendObjectRef = z.object(backendObjectRefShape).superRefine(requirePortForService);
export type BackendObjectRef = z.infer<typeof backendObjectRef>;

export const weight = z.int().min(0).max(1_000_000);

/** A header value Ferry writes onto the wire as it is: no CR, LF, NUL or other control characters. */
export const fieldValue = z.string().max(4096).regex(/^[\t\x20-\x7e\x80-\xff]*$/, {
  error: 'must not contain control characters such as CR, LF or NUL',
});

const headerValue = z.object({ name: headerName, value: fieldValue });

function uniqueNames(list: readonly { name: string }[] | undefined, ctx: z.RefinementCtx, field: string): void {
  const seen = new Set<string>();
  (list ?? []).forEach((h, i) => {
    const key = h.name.toLowerCase();
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [field, i, 'name'], message: `header "${h.name}" is listed twice` });
    seen.add(key);
  });
}

export const headerModifier = z
  .object({
    set: z.array(headerValue).max(16).optional(),
    add: z.array(headerValue).max(16).optional(),
    remove: z.array(headerName).max(16).optional(),
  })
  .superRefine((m, ctx) => {
    uniqueNames(m.set, ctx, 'set');
    uniqueNames(m.add, ctx, 'add');
    uniqueNames(m.remove?.map((name) => ({ name })), ctx, 'remove');
  });
export type HeaderModifier = z.infer<typeof headerModifier>;

export const requestMirror = z
  .object({
    backendRef: backendObjectRef,
    percent: z.int().min(0).max(100).optional(),
    fraction: z.object({ numerator: z.int().min(0), denominator: z.int().min(1).optional() }).optional(),
  })
  .superRefine((m, ctx) => {
    if (m.percent !== undefined && m.fraction !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'only one of percent or fraction may be specified' });
    }
    if (m.fraction && m.fraction.numerator > (m.fraction.denominator ?? 100)) {
      ctx.addIssue({ code: 'custom', path: ['fraction', 'numerator'], message: 'numerator must be less than or equal to denominator' });
    }
  });
export type RequestMirror = z.infer<typeof requestMirror>;

export const extensionRef = z.object({ group: group, kind: kindName, name: objectName });

/** Checks that a filter's type names exactly the configuration field that is set. */
export function filterConfigMatchesType(fields: Record<string, string>) {
  return (f: { type: string } & Record<string, unknown>, ctx: z.RefinementCtx): void => {
    for (const [type, field] of Object.entries(fields)) {
      if (f.type === type && f[field] === undefined) {
        ctx.addIssue({ code: 'custom', path: [field], message: `${field} must be specified for filter type ${type}` });
      } else if (f.type !== type && f[field] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [field], message: `${field} must not be set for filter type ${f.type}` });
      }
    }
  };
}

/** Reports a filter type repeated more often than the spec allows. */
export function filtersNotRepeated(
  filters: readonly { type: string }[] | undefined,
  once: readonly string[],
  ctx: z.RefinementCtx,
  path: (string | number)[],
): void {
  const count = new Map<string, number>();
  (filters ?? []).forEach((f, i) => {
    const n = (count.get(f.type) ?? 0) + 1;
    count.set(f.type, n);
    if (n === 2 && once.includes(f.type)) {
      ctx.addIssue({ code: 'custom', path: [...path, i, 'type'], message: `${f.type} filter cannot be repeated` });
    }
  });
}

export const labelSelector = z
  .object({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z
      .array(
        z.object({
          key: z.string().min(1),
          operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
          values: z.array(z.string()).optional(),
        }),
      )
      .optional(),
  })
  .superRefine((s, ctx) => {
    (s.matchExpressions ?? []).forEach((e, i) => {
      const hasValues = (e.values?.length ?? 0) > 0;
      if ((e.operator === 'In' || e.operator === 'NotIn') && !hasValues) {
        ctx.addIssue({ code: 'custom', path: ['matchExpressions', i, 'values'], message: `values must be non-empty for operator ${e.operator}` });
      }
      if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && hasValues) {
        ctx.addIssue({ code: 'custom', path: ['matchExpressions', i, 'values'], message: `values must be empty for operator ${e.operator}` });
      }
    });
  });
export type LabelSelector = z.infer<typeof labelSelector>;

export const stringMap = z.record(z.string(), z.string());
