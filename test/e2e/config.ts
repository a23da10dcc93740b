/**
 * Builds configuration directories for end-to-end tests: a temp dir of YAML files that tests edit
 * while Ferry watches them, with small generators for the resources the scenarios repeat.
 */
import { mkdtemp, writeFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ConfigDir {
  readonly dir: string;
  /** Writes a file atomically (temp file + rename), as editors and config management do. */
  write(name: string, text: string): Promise<void>;
  path(name: string): string;
  remove(): Promise<void>;
}

let counter = 0;

export async function makeConfigDir(files: Record<string, string> = {}): Promise<ConfigDir> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-e2e-'));
  const cd: ConfigDir = {
    dir,
    path: (name) => join(dir, name),
    async write(name, text) {
      const tmp = join(dir, `.${name}.${process.pid}.${counter++}.tmp`);
      await writeFile(tmp, text);
      await rename(tmp, join(dir, name));
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  for (const [name, text] of Object.entries(files)) await cd.write(name, text);
  return cd;
}

export const gatewayYaml = (name = 'edge', port = 80, extraListeners = '') => `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: ferry}
spec: {controllerName: ferry.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: default}
spec:
  gatewayClassName: ferry
  listeners:
    - name: http
      protocol: HTTP
      port: ${port}
${extraListeners}`;

/**
 * A selector-less Service whose endpoints are 127.0.0.1 at the given ports (a VM given by address):
 * one hand-written EndpointSlice per port, since a slice carries one port for all its endpoints.
 */
export const serviceYaml = (name: string, ports: number[], labels: Record<string, string> = {}, appProtocol?: string) => `
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  ports:
    - name: http
      port: 8080${appProtocol ? `\n      appProtocol: ${appProtocol}` : ''}
${ports.map((port, i) => `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-${i}
  namespace: default
  labels:
    kubernetes.io/service-name: ${name}
${Object.entries(labels).map(([k, v]) => `    ${k}: ${v}`).join('\n')}
addressType: IPv4
ports: [{name: http, port: ${port}}]
endpoints: [{addresses: ["127.0.0.1"]}]
`).join('')}`;

/** An HTTPRoute on Gateway `edge` with one rule splitting between weighted Services on port 8080. */
export const splitRouteYaml = (name: string, backends: Array<[string, number]>) => `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: default}
spec:
  parentRefs: [{name: edge}]
  rules:
    - backendRefs:
${backends.map(([svc, w]) => `        - {name: ${svc}, port: 8080, weight: ${w}}`).join('\n')}
`;
