/**
 * Mesh (ferry.dev/v1alpha1): mesh-wide settings. For now, the Kubernetes clusters Ferry can watch
 * (`spec.clusters`), which Backend `kubernetes` sources name. One Mesh per configuration.
 */
import { z } from 'zod';
import { namespaceName, stringMap } from './schema-common.ts';

const cluster = z
  .object({
    name: namespaceName,
    kubeconfig: z.string().min(1).optional(),
    context: z.string().min(1).optional(),
    inCluster: z.boolean().optional(),
    labels: stringMap.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.inCluster === true && c.kubeconfig !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['kubeconfig'], message: 'kubeconfig must not be set with inCluster: true' });
    }
    if (c.inCluster === true && c.context !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['context'], message: 'context must not be set with inCluster: true' });
    }
    if (c.inCluster !== true && c.kubeconfig === undefined) {
      ctx.addIssue({ code: 'custom', message: 'kubeconfig (a file path) or inCluster: true is required' });
    }
  });

export const meshSpec = z
  .object({ clusters: z.array(cluster).max(64).optional() })
  .superRefine((m, ctx) => {
    const seen = new Set<string>();
    (m.clusters ?? []).forEach((c, i) => {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: ['clusters', i, 'name'], message: `cluster "${c.name}" is declared twice` });
      seen.add(c.name);
    });
  });
export type MeshSpec = z.infer<typeof meshSpec>;
