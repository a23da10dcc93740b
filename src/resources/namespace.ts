/**
 * Namespace (v1): only its labels matter to Ferry (listener allowedRoutes Selector). A namespace with
 * no Namespace resource is treated as labelled `kubernetes.io/metadata.name: <name>` only.
 */
import { z } from 'zod';

export const namespaceBody = z.object({
  spec: z.object({ finalizers: z.array(z.string()).optional() }).optional(),
});
export type NamespaceBody = z.infer<typeof namespaceBody>;

/** The label the API server sets on every Namespace. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
