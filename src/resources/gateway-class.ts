/**
 * GatewayClass (gateway.networking.k8s.io/v1, v1beta1, cluster-scoped): names the controller that
 * owns the Gateways of that class. Ferry's controller name is `ferry.dev/gateway-controller`.
 */
import { z } from 'zod';

/** The controllerName Ferry answers to. */
export const FERRY_CONTROLLER_NAME = 'ferry.dev/gateway-controller';

export const gatewayClassSpec = z.object({
  controllerName: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$/, {
      error: 'must be a domain-prefixed path such as "ferry.dev/gateway-controller"',
    }),
  parametersRef: z.record(z.string(), z.unknown()).optional(),
  description: z.string().max(64).optional(),
});
export type GatewayClassSpec = z.infer<typeof gatewayClassSpec>;
