/**
 * EndpointSlice (discovery.k8s.io/v1): addresses, readiness, zone and ports of a Service's endpoints.
 * Hand-written slices are how a VM's address is given to Ferry.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { portNumber, stringMap } from './schema-common.ts';

const endpoint = z.object({
  addresses: z.array(z.string().min(1)).min(1).max(100),
  conditions: z
    .object({ ready: z.boolean().optional(), serving: z.boolean().optional(), terminating: z.boolean().optional() })
    .optional(),
  hostname: z.string().optional(),
  nodeName: z.string().optional(),
  zone: z.string().optional(),
  targetRef: z.record(z.string(), z.unknown()).optional(),
  hints: z.record(z.string(), z.unknown()).optional(),
  deprecatedTopology: stringMap.optional(),
});
export type SliceEndpoint = z.infer<typeof endpoint>;

const slicePort = z.object({
  name: z.string().max(63).optional(),
  port: portNumber.optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
  appProtocol: z.string().optional(),
});
export type SlicePort = z.infer<typeof slicePort>;

export const endpointSliceBody = z
  .object({
    addressType: z.enum(['IPv4', 'IPv6', 'FQDN']),
    endpoints: z.array(endpoint).max(1000),
    ports: z.array(slicePort).max(100).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.addressType === 'FQDN') return;
    const family = s.addressType === 'IPv4' ? 4 : 6;
    s.endpoints.forEach((e, i) =>
      e.addresses.forEach((a, j) => {
        if (isIP(a) !== family) {
          ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'addresses', j], message: `"${a}" is not an ${s.addressType} address` });
        }
      }),
    );
  });
export type EndpointSliceBody = z.infer<typeof endpointSliceBody>;
