/** Generated Ferry configurations for the bench: the plain route, the full-featured route, N-route tables, gRPC, and scale sets. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FerryConfigOptions {
  upstreamPort: number;
  /** Number of PathPrefix routes `/r<i>`; 0 means one catch-all route. */
  routes?: number;
  /** Weighted 90/10 split over two Services plus a RequestHeaderModifier. */
  full?: boolean;
  /** Add an HTTPS listener on port 443 with this cert and key (PEM text). */
  tls?: { cert: string; key: string };
  /** Route with a GRPCRoute to an h2c upstream instead of an HTTPRoute. */
  grpc?: boolean;
}

const indent = (text: string, n: number) => text.split('\n').map((l) => (l ? ' '.repeat(n) + l : l)).join('\n');

/** GatewayClass `ferry` and Gateway `default/bench` with an HTTP listener on 80 (and HTTPS on 443 when `tls`). */
export function gatewayClassAndGateway(tls: boolean): string {
  const https = tls
    ? `
    - name: https
      protocol: HTTPS
      port: 443
      tls:
        mode: Terminate
        certificateRefs:
          - name: bench-tls`
    : '';
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: ferry
spec:
  controllerName: ferry.dev/gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: bench
  namespace: default
spec:
  gatewayClassName: ferry
  listeners:
    - name: http
      protocol: HTTP
      port: 80${https}
`;
}

/** A selector-less Service with one port and its EndpointSlice listing `addresses` on `targetPort`. */
export function serviceYaml(name: string, targetPort: number, opts: { appProtocol?: string; addresses?: string[] } = {}): string {
  const app = opts.appProtocol ? `\n      appProtocol: ${opts.appProtocol}` : '';
  const addresses = (opts.addresses ?? ['127.0.0.1']).map((a) => `  - addresses: ["${a}"]\n    conditions:\n      ready: true`).join('\n');
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: default
spec:
  ports:
    - name: http
      port: 8080${app}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-1
  namespace: default
  labels:
    kubernetes.io/service-name: ${name}
addressType: IPv4
ports:
  - name: http
    port: ${targetPort}
endpoints:
${addresses}
`;
}

function secretYaml(tls: { cert: string; key: string }): string {
  return `apiVersion: v1
kind: Secret
metadata:
  name: bench-tls
  namespace: default
type: kubernetes.io/tls
stringData:
  tls.crt: |
${indent(tls.cert.trim(), 4)}
  tls.key: |
${indent(tls.key.trim(), 4)}
`;
}

function httpRoute(name: string, rules: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ${name}
  namespace: default
spec:
  parentRefs:
    - name: bench
  rules:
${rules}`;
}

/** HTTPRoute `rules:` allows at most 16 entries, so N routes are N/16 HTTPRoutes (rule i has PathPrefix /r<i>). */
export function routeTableYaml(count: number, service = 'up'): string {
  const docs: string[] = [];
  for (let start = 0; start < count; start += 16) {
    const rules: string[] = [];
    for (let i = start; i < Math.min(count, start + 16); i++) {
      rules.push(`    - matches:
        - path:
            type: PathPrefix
            value: /r${i}
      backendRefs:
        - name: ${service}
          port: 8080
`);
    }
    docs.push(httpRoute(`r${start}`, rules.join('')));
  }
  return docs.join('---\n');
}

/** The path the route-table scenario requests: a route in the middle of the table. */
export const middleRoutePath = (count: number) => `/r${Math.floor(count / 2)}`;

/** Write the configuration into `dir` (one file per concern) and return `dir`. */
export function writeFerryConfig(dir: string, o: FerryConfigOptions): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'gateway.yaml'), gatewayClassAndGateway(!!o.tls));
  if (o.tls) writeFileSync(join(dir, 'secret.yaml'), secretYaml(o.tls));
  if (o.grpc) {
    writeFileSync(join(dir, 'services.yaml'), serviceYaml('up', o.upstreamPort, { appProtocol: 'kubernetes.io/h2c' }));
    writeFileSync(join(dir, 'route.yaml'), `apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata:
  name: bench
  namespace: default
spec:
  parentRefs:
    - name: bench
  rules:
    - backendRefs:
        - name: up
          port: 8080
`);
    return dir;
  }
  if (o.full) {
    writeFileSync(join(dir, 'services.yaml'), serviceYaml('up', o.upstreamPort) + '---\n' + serviceYaml('up-canary', o.upstreamPort));
    writeFileSync(join(dir, 'route.yaml'), httpRoute('bench', `    - filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set:
              - name: x-bench
                value: full
            add:
              - name: x-bench-added
                value: "1"
            remove: ["x-unused"]
      backendRefs:
        - name: up
          port: 8080
          weight: 90
        - name: up-canary
          port: 8080
          weight: 10
`));
    return dir;
  }
  writeFileSync(join(dir, 'services.yaml'), serviceYaml('up', o.upstreamPort));
  if (o.routes && o.routes > 0) {
    writeFileSync(join(dir, 'route.yaml'), routeTableYaml(o.routes));
  } else {
    writeFileSync(join(dir, 'route.yaml'), httpRoute('bench', `    - backendRefs:
        - name: up
          port: 8080
`));
  }
  return dir;
}
