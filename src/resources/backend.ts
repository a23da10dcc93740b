/**
 * Backend (ferry.dev/v1alpha1): one logical service whose endpoints come from several sources at
 * once (static VM addresses, a Service's EndpointSlices in this configuration, Consul, DNS, a Service
 * in another Kubernetes cluster), or a subset of another Backend's endpoints selected by labels.
 * Shape and format checks live here; references (Secrets, Services, Mesh clusters, the subset's
 * parent) are resolved in compile.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { duration, namespaceName, objectName, portNumber, stringMap } from './schema-common.ts';
import { parseDuration } from '../lib/index.ts';

export const FERRY_GROUP = 'ferry.dev';
export const FERRY_API_VERSION = 'ferry.dev/v1alpha1';
export const SOURCE_TYPES = ['static', 'service', 'consul', 'dns', 'kubernetes'] as const;
export const DNS_DEFAULT_MIN_REFRESH_MS = 1000;
export const DNS_DEFAULT_MAX_REFRESH_MS = 300_000;

const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A Service port, by number or by name. */
export const servicePortRef = z.union([portNumber, z.string().max(63).regex(PORT_NAME)], {
  error: 'must be a port number (1-65535) or a port name',
});

const staticEndpoint = z.object({
  address: z.string().refine((a) => isIP(a) !== 0, { error: 'must be an IPv4 or IPv6 address (use a dns source for host names)' }),
  port: portNumber,
  labels: stringMap.optional(),
  weight: z.int().min(1).max(1000).optional(),
});

const staticSource = z
  .object({ endpoints: z.array(staticEndpoint).min(1).max(1000), labels: stringMap.optional() })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.endpoints.forEach((e, i) => {
      const key = `${e.address}|${e.port}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['endpoints', i], message: `${e.address}:${e.port} is listed twice` });
      seen.add(key);
    });
  });

const serviceSource = z.object({ name: objectName, port: servicePortRef, labels: stringMap.optional() });

const consulSource = z.object({
  address: z.string().superRefine((a, ctx) => {
    let url: URL;
    try {
      url = new URL(a);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be an http:// or https:// URL such as "http://127.0.0.1:8500" (got "${a}")` });
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: `must be an http:// or https:// URL (got scheme "${url.protocol.slice(0, -1)}")` });
    } else if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
      ctx.addIssue({ code: 'custom', message: 'must be the agent address only (scheme, host and port), without path, query or credentials' });
    }
  }),
  service: z.string().min(1).max(253),
  datacenter: z.string().min(1).max(253).optional(),
  tag: z.string().min(1).max(253).optional(),
  tokenSecretRef: z.object({ name: objectName, key: z.string().min(1).max(253) }).optional(),
  labels: stringMap.optional(),
});

const DNS_NAME = /^(?=.{1,253}\.?$)[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** A resolver address `ip:port` (`[v6]:port` for IPv6). */
export function parseResolver(text: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (isIP(m[1]) === 0 || port < 1 || port > 65535) return undefined;
  return { host: m[1], port };
}

function refreshMs(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  try {
    return parseDuration(text);
  } catch {
    return fallback;
  }
}

const dnsSource = z
  .object({
    name: z.string().regex(DNS_NAME, { error: 'must be a DNS name such as "catalog.internal" or "_grpc._tcp.catalog.internal"' }),
    type: z.enum(['A', 'AAAA', 'SRV']).optional(),
    port: portNumber.optional(),
    servers: z
      .array(
        z.string().refine((s) => parseResolver(s) !== undefined, {
          error: 'must be a resolver address "ip:port", e.g. "127.0.0.1:53" or "[::1]:53"',
        }),
      )
      .max(8)
      .optional(),
    minRefresh: duration.optional(),
    maxRefresh: duration.optional(),
    labels: stringMap.optional(),
  })
  .superRefine((d, ctx) => {
    const type = d.type ?? 'A';
    if (type === 'SRV' && d.port !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['port'], message: 'port must not be set for SRV: the records carry the ports' });
    }
    if (type !== 'SRV' && d.port === undefined) {
      ctx.addIssue({ code: 'custom', path: ['port'], message: `port is required for type ${type}` });
    }
    const min = refreshMs(d.minRefresh, DNS_DEFAULT_MIN_REFRESH_MS);
    const max = refreshMs(d.maxRefresh, DNS_DEFAULT_MAX_REFRESH_MS);
    if (d.minRefresh !== undefined && min === 0) ctx.addIssue({ code: 'custom', path: ['minRefresh'], message: 'must be longer than 0' });
    if (min > max) {
      ctx.addIssue({ code: 'custom', path: [d.maxRefresh !== undefined ? 'maxRefresh' : 'minRefresh'], message: `minRefresh (${min}ms) must not exceed maxRefresh (${max}ms)` });
    }
  });

const kubernetesSource = z.object({
  cluster: namespaceName,
  namespace: namespaceName.optional(),
  service: objectName,
  port: servicePortRef,
  labels: stringMap.optional(),
});

/** One source: exactly one of the source types. */
const source = z
  .looseObject({
    static: staticSource.optional(),
    service: serviceSource.optional(),
    consul: consulSource.optional(),
    dns: dnsSource.optional(),
    kubernetes: kubernetesSource.optional(),
  })
  .superRefine((s, ctx) => {
    const keys = Object.keys(s);
    for (const k of keys) {
      if (!(SOURCE_TYPES as readonly string[]).includes(k)) {
        ctx.addIssue({ code: 'custom', path: [k], message: `unknown source type "${k}"; use one of ${SOURCE_TYPES.join(', ')}` });
      }
    }
    const known = keys.filter((k) => (SOURCE_TYPES as readonly string[]).includes(k));
    if (known.length === 0 && keys.length === 0) {
      ctx.addIssue({ code: 'custom', message: `a source needs one of ${SOURCE_TYPES.join(', ')}` });
    } else if (known.length > 1) {
      ctx.addIssue({ code: 'custom', path: [known[1]], message: `a source has exactly one type (found ${known.join(' and ')}); list them as separate sources` });
    }
  });
export type BackendSource = z.infer<typeof source>;

export const backendSpec = z
  .object({
    protocol: z.enum(['http1', 'h2c']).optional(),
    sources: z.array(source).min(1).max(32).optional(),
    defaultSubset: z.object({ matchLabels: stringMap }).optional(),
    subsetOf: z.object({ name: objectName, matchLabels: stringMap.optional() }).optional(),
  })
  .superRefine((b, ctx) => {
    if (b.sources === undefined && b.subsetOf === undefined) {
      ctx.addIssue({ code: 'custom', message: 'exactly one of sources or subsetOf is required' });
    }
    if (b.sources !== undefined && b.subsetOf !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['subsetOf'], message: 'exactly one of sources or subsetOf may be set: a subset takes its endpoints from its parent' });
    }
    if (b.subsetOf !== undefined && b.defaultSubset !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['defaultSubset'], message: 'defaultSubset must not be set on a subset; its subsetOf.matchLabels select its endpoints' });
    }
  });
export type BackendSpecBody = z.infer<typeof backendSpec>;
