/**
 * ReferenceGrant (gateway.networking.k8s.io/v1, v1beta1): which kinds in which namespaces may refer to
 * objects in the grant's namespace (cross-namespace backendRefs and certificateRefs).
 */
import { z } from 'zod';
import { group, kindName, namespaceName, objectName } from './schema-common.ts';

export const referenceGrantSpec = z.object({
  from: z.array(z.object({ group: group, kind: kindName, namespace: namespaceName })).min(1).max(16),
  to: z.array(z.object({ group: group, kind: kindName, name: objectName.optional() })).min(1).max(16),
});
export type ReferenceGrantSpec = z.infer<typeof referenceGrantSpec>;
