/**
 * The Mesh resource in force and the Kubernetes clusters it declares. There is one Mesh: the oldest
 * (then `namespace/name`) is used and any other is rejected. Relative kubeconfig paths are resolved
 * against the directory of the file the Mesh was read from (string operations only: no I/O).
 */
import { dirname, isAbsolute, join } from 'node:path';
import type { ConfigError } from '../lib/index.ts';
import type { MeshResource } from '../resources/index.ts';
import type { ClusterConnection } from '../snapshot/index.ts';
import { resourceError } from './diagnostics.ts';
import { nsName, type ResourceIndex } from './model.ts';

export interface MeshState {
  /** The Mesh in force, if any. */
  readonly mesh?: MeshResource;
  /** Meshes ignored because another one is in force. */
  readonly rejected: ReadonlySet<MeshResource>;
  readonly clusters: readonly ClusterConnection[];
  readonly errors: readonly ConfigError[];
}

function kubeconfigPath(mesh: MeshResource, path: string): string {
  if (isAbsolute(path) || mesh.source.file === '') return path;
  return join(dirname(mesh.source.file), path);
}

export function compileMesh(index: ResourceIndex): MeshState {
  const [mesh, ...others] = index.meshes;
  if (!mesh) return { rejected: new Set(), clusters: [], errors: [] };
  const at = `${mesh.source.file}:${mesh.source.line}:${mesh.source.column}`;
  const errors = others.map((m) =>
    resourceError(m, 'metadata.name', `only one Mesh is allowed; Mesh ${nsName(mesh.metadata.namespace, mesh.metadata.name)} (${at}) is in force and this one is ignored`),
  );
  const clusters: ClusterConnection[] = (mesh.spec.clusters ?? []).map((c) => ({
    name: c.name,
    ...(c.kubeconfig !== undefined ? { kubeconfig: kubeconfigPath(mesh, c.kubeconfig) } : {}),
    ...(c.context !== undefined ? { context: c.context } : {}),
    ...(c.inCluster === true ? { inCluster: true } : {}),
    labels: c.labels ?? {},
  }));
  return { mesh, rejected: new Set(others), clusters, errors };
}
