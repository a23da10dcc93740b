/**
 * Gateway (gateway.networking.k8s.io/v1, v1beta1): schema and types. Listener
 * rules the CRD enforces with CEL (unique names, unique port/protocol/hostname, TLS only on TLS
 * protocols, certificateRefs for Terminate) are checked here; whether Ferry supports a protocol is
 * decided in compile and reported as a listener condition.
 */
import { z } from 'zod';
import {
  group,
  hostname,
  kindName,
  labelSelector,
  namespaceName,
  objectName,
  portNumber,
  sectionName,
  stringMap,
} from './schema-common.ts';

/** The TLS option key that sets a listener's minimum TLS version ("1.2" or "1.3"). */
export const MIN_TLS_VERSION_OPTION = 'ferry.dev/min-tls-version';

const secretObjectRef = z.object({
  group: group.optional(),
  kind: kindName.optional(),
  name: objectName,
  namespace: namespaceName.optional(),
});
export type SecretObjectRef = z.infer<typeof secretObjectRef>;

const listenerTls = z
  .object({
    mode: z.enum(['Terminate', 'Passthrough']).optional(),
    certificateRefs: z.array(secretObjectRef).max(64).optional(),
    options: stringMap.optional(),
  })
  .superRefine((tls, ctx) => {
    const v = tls.options?.[MIN_TLS_VERSION_OPTION];
    if (v !== undefined && v !== '1.2' && v !== '1.3') {
      ctx.addIssue({ code: 'custom', path: ['options', MIN_TLS_VERSION_OPTION], message: `must be "1.2" or "1.3" (got "${v}")` });
    }
  });

const routeNamespaces = z
  .object({ from: z.enum(['All', 'Same', 'Selector', 'None']).optional(), selector: labelSelector.optional() })
  .superRefine((n, ctx) => {
    if (n.from === 'Selector' && n.selector === undefined) {
      ctx.addIssue({ code: 'custom', path: ['selector'], message: 'selector must be specified when from is Selector' });
    }
  });

export const listener = z.object({
  name: sectionName,
  hostname: hostname.optional(),
  port: portNumber,
  protocol: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$/, {
      error: 'must be a protocol name such as HTTP or HTTPS',
    }),
  tls: listenerTls.optional(),
  allowedRoutes: z
    .object({
      namespaces: routeNamespaces.optional(),
      kinds: z.array(z.object({ group: group.optional(), kind: kindName })).max(8).optional(),
    })
    .optional(),
});
export type Listener = z.infer<typeof listener>;

const TLS_PROTOCOLS = ['HTTPS', 'TLS'];

export const gatewaySpec = z
  .object({
    gatewayClassName: objectName,
    listeners: z.array(listener).min(1).max(64),
    addresses: z.array(z.unknown()).max(16).optional(),
    infrastructure: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((spec, ctx) => {
    const names = new Set<string>();
    const combos = new Set<string>();
    spec.listeners.forEach((l, i) => {
      const at = (...rest: string[]) => ['listeners', i, ...rest];
      if (names.has(l.name)) ctx.addIssue({ code: 'custom', path: at('name'), message: `listener name "${l.name}" must be unique within the Gateway` });
      names.add(l.name);
      const combo = `${l.port}/${l.protocol}/${l.hostname ?? ''}`;
      if (combos.has(combo)) {
        ctx.addIssue({ code: 'custom', path: at(), message: 'combination of port, protocol and hostname must be unique for each listener' });
      }
      combos.add(combo);
      const tlsProtocol = TLS_PROTOCOLS.includes(l.protocol);
      if (l.tls && !tlsProtocol) {
        ctx.addIssue({ code: 'custom', path: at('tls'), message: `tls must not be set for protocol ${l.protocol}` });
      }
      if (tlsProtocol && !l.tls) {
        ctx.addIssue({ code: 'custom', path: at(), message: `tls must be set for protocol ${l.protocol}` });
      }
      if (l.protocol === 'HTTPS' && l.tls && (l.tls.mode ?? 'Terminate') !== 'Terminate') {
        ctx.addIssue({ code: 'custom', path: at('tls', 'mode'), message: 'tls mode must be Terminate for protocol HTTPS' });
      }
      if (l.tls && (l.tls.mode ?? 'Terminate') === 'Terminate' && (l.tls.certificateRefs?.length ?? 0) === 0) {
        ctx.addIssue({ code: 'custom', path: at('tls'), message: 'certificateRefs must be specified when tls mode is Terminate' });
      }
      if ((l.protocol === 'TCP' || l.protocol === 'UDP') && l.hostname) {
        ctx.addIssue({ code: 'custom', path: at('hostname'), message: `hostname must not be set for protocol ${l.protocol}` });
      }
    });
  });
export type GatewaySpec = z.infer<typeof gatewaySpec>;
