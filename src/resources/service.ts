/**
 * Service (v1): the ports routes refer to (name, port, targetPort, appProtocol). Selectors and cluster
 * IPs are accepted but not used: endpoints come from EndpointSlices.
 */
import { z } from 'zod';
import { portNumber, stringMap } from './schema-common.ts';

const ianaServiceName = z.string().min(1).max(15).regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, {
  error: 'must be a port number or an IANA service name',
});

export const servicePort = z.object({
  name: z.string().max(63).optional(),
  port: portNumber,
  targetPort: z.union([portNumber, ianaServiceName], { error: 'must be a port number (1-65535) or a port name' }).optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
  appProtocol: z.string().optional(),
  nodePort: z.int().optional(),
});
export type ServicePort = z.infer<typeof servicePort>;

export const serviceSpec = z
  .object({
    type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).optional(),
    ports: z.array(servicePort).optional(),
    selector: stringMap.optional(),
    clusterIP: z.string().optional(),
    externalName: z.string().optional(),
  })
  .superRefine((spec, ctx) => {
    const ports = spec.ports ?? [];
    const names = new Set<string>();
    const numbers = new Set<string>();
    ports.forEach((p, i) => {
      if (ports.length > 1 && !p.name) {
        ctx.addIssue({ code: 'custom', path: ['ports', i, 'name'], message: 'name is required when a Service has more than one port' });
      }
      if (p.name !== undefined) {
        if (names.has(p.name)) ctx.addIssue({ code: 'custom', path: ['ports', i, 'name'], message: `port name "${p.name}" is used twice` });
        names.add(p.name);
      }
      const key = `${p.port}/${p.protocol ?? 'TCP'}`;
      if (numbers.has(key)) ctx.addIssue({ code: 'custom', path: ['ports', i, 'port'], message: `port ${p.port}/${p.protocol ?? 'TCP'} is declared twice` });
      numbers.add(key);
    });
  });
export type ServiceSpec = z.infer<typeof serviceSpec>;
