/**
 * The snapshot: the contract between the control plane (compile) and the data plane (proxy).
 * Plain, readonly, JSON-serialisable data. Compile produces it from resources; the proxy turns it into
 * live listeners and matchers. Nothing here refers to YAML, files or Kubernetes objects any more:
 * all Gateway API meaning (attachment, hostnames, precedence, ReferenceGrant, defaults) has been
 * resolved by the time a snapshot exists.
 *
 * Endpoints travel separately (EndpointSets) so an endpoint change never recompiles routes.
 */

export interface Snapshot {
  /** sha256 of the JSON of everything below; equal hash means nothing to do. */
  readonly hash: string;
  /** Sockets to bind; several listeners (from one or several Gateways) may share one socket. */
  readonly sockets: readonly SocketSpec[];
  /** Every rule referenced from a RouteEntry, by rule id. */
  readonly rules: Readonly<Record<string, RuleSpec>>;
  /** Every backend referenced from a rule or mirror, by backend id. */
  readonly backends: Readonly<Record<string, BackendSpec>>;
}

export type ListenerProtocol = 'HTTP' | 'HTTPS';

/** One bound address. */
export interface SocketSpec {
  /** `host:port` actually bound (after --bind overrides), e.g. `0.0.0.0:80` or `127.0.0.1:18080`. */
  readonly key: string;
  readonly bindHost: string;
  readonly bindPort: number;
  readonly protocol: ListenerProtocol;
  /**
   * Listeners sharing this socket, most specific hostname first (exact, then longer wildcards, then
   * listeners without hostname). A request goes to the first listener whose hostname matches its Host.
   */
  readonly listeners: readonly ListenerSpec[];
}

export interface ListenerSpec {
  /** `namespace/gateway/listenerName`. */
  readonly id: string;
  readonly gatewayNamespace: string;
  readonly gatewayName: string;
  readonly name: string;
  /** The listener's hostname (`example.com`, `*.example.com`) or undefined for any. */
  readonly hostname?: string;
  /** The declared port: what redirects and X-Forwarded-Port report, whatever socket is bound. */
  readonly port: number;
  readonly protocol: ListenerProtocol;
  /** Certificates for HTTPS listeners (first is the default; others are chosen by SNI). */
  readonly tls?: TlsSpec;
  /**
   * Virtual hosts, most specific first: exact hostnames, then wildcards by length, then `*`.
   * A request is served by the first virtual host whose hostname matches; there is no fall-through
   * to a less specific one (Gateway API hostname precedence).
   */
  readonly virtualHosts: readonly VirtualHostSpec[];
}

export interface TlsSpec {
  readonly certificates: readonly TlsCertificate[];
  /** Minimum TLS version; Ferry's default is TLSv1.2. */
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
}

export interface TlsCertificate {
  /** `namespace/name` of the Secret it came from. */
  readonly secret: string;
  /** PEM certificate chain. */
  readonly certPem: string;
  /** PEM private key. Redacted when the snapshot is shown on the admin API. */
  readonly keyPem: string;
  /** DNS names (and wildcards) from the certificate's SAN/CN, used for SNI selection. */
  readonly serverNames: readonly string[];
}

export interface VirtualHostSpec {
  /** `*` (any), an exact hostname, or a wildcard `*.example.com`. Lowercase. */
  readonly hostname: string;
  /** Candidate routes in precedence order; the first whose match succeeds wins. */
  readonly routes: readonly RouteEntry[];
}

export type RouteKind = 'HTTPRoute' | 'GRPCRoute';

export interface RouteEntry {
  /** `HTTPRoute/namespace/name`. */
  readonly routeId: string;
  readonly kind: RouteKind;
  /** Key into Snapshot.rules. */
  readonly ruleId: string;
  readonly matchIndex: number;
  readonly match: MatchSpec;
}

export interface MatchSpec {
  /**
   * Path condition on the normalised path. For GRPCRoute, method matches are compiled to path
   * conditions on `/service/method` (Exact, or RegularExpression for partial/regex matches).
   */
  readonly path?: PathMatch;
  /** Upper-case method, e.g. `GET`. */
  readonly method?: string;
  readonly headers: readonly ValueMatch[];
  readonly queryParams: readonly ValueMatch[];
}

export interface PathMatch {
  readonly type: 'Exact' | 'PathPrefix' | 'RegularExpression';
  /** For PathPrefix, without trailing slash except for the root `/`. */
  readonly value: string;
}

export interface ValueMatch {
  /** Header names are lower-case; query parameter names are exact (case-sensitive). */
  readonly name: string;
  readonly type: 'Exact' | 'RegularExpression';
  readonly value: string;
}

export interface RuleSpec {
  /** `HTTPRoute/namespace/name/rule/<index>`. */
  readonly id: string;
  readonly routeId: string;
  readonly kind: RouteKind;
  readonly ruleIndex: number;
  /** Optional rule name (Gateway API `rules[].name`). */
  readonly name?: string;
  /** Rule-level filters in the order declared. */
  readonly filters: readonly FilterSpec[];
  /**
   * Weighted backends. An entry with `backendId: null` is an invalid or unresolvable backendRef: its
   * share of requests is answered with 500 (Gateway API). Weight-0 entries are kept (for reporting)
   * but never chosen. Empty (no backendRefs, no redirect) answers 500.
   */
  readonly backends: readonly WeightedBackend[];
  readonly timeouts?: Timeouts;
  readonly retry?: RetrySpec;
  /**
   * Set when a Rollout drives this rule: the weights in `backends` are the Rollout's, and `declared`
   * keeps the route's own (same order) so /config can show both and which one wins.
   */
  readonly rollout?: RuleRollout;
  /**
   * A sticky share of users for the candidate (Rollout `sticky` step): users whose hash of `hashOn`
   * falls under `percent` go to `candidateBackendId`, everyone else to `stableBackendId`, each user
   * always to the same copy. Replaces the weighted choice while set.
   */
  readonly sticky?: StickySplit;
}

export interface RuleRollout {
  /** `namespace/name` of the Rollout. */
  readonly name: string;
  /** The route's declared weights, in the order of `backends`. */
  readonly declared: readonly number[];
  readonly stableBackendId: string;
  readonly candidateBackendId: string;
}

export interface StickySplit {
  readonly percent: number;
  /** Header or Cookie; a request without it goes to stable. */
  readonly hashOn: HashOn;
  readonly stableBackendId: string;
  readonly candidateBackendId: string;
}

export interface WeightedBackend {
  readonly backendId: string | null;
  readonly weight: number;
  /** Per-backendRef filters (RequestHeaderModifier/ResponseHeaderModifier) applied after rule filters. */
  readonly filters: readonly FilterSpec[];
  /** Why the backendRef is invalid, when backendId is null (shown on /config and in the 500 body). */
  readonly invalidReason?: string;
}

export interface Timeouts {
  /** Whole request, including retries; undefined = no limit. */
  readonly requestMs?: number;
  /** Each attempt to a backend; undefined = no per-attempt limit. */
  readonly backendRequestMs?: number;
}

export interface RetrySpec {
  /** Total retries after the first attempt. */
  readonly attempts: number;
  /** HTTP status codes that trigger a retry (connection errors and resets always do). */
  readonly codes: readonly number[];
  /** Delay before each retry, in ms (doubling each time, with jitter). */
  readonly backoffMs: number;
}

export type FilterSpec =
  | HeaderModifierFilter
  | RequestRedirectFilter
  | UrlRewriteFilter
  | RequestMirrorFilter;

export interface HeaderModifierFilter {
  readonly type: 'RequestHeaderModifier' | 'ResponseHeaderModifier';
  /** Header names are lower-case. */
  readonly set: readonly HeaderValue[];
  readonly add: readonly HeaderValue[];
  readonly remove: readonly string[];
}

export interface HeaderValue {
  readonly name: string;
  readonly value: string;
}

export type PathModifier =
  | { readonly type: 'ReplaceFullPath'; readonly value: string }
  | { readonly type: 'ReplacePrefixMatch'; readonly value: string };

export interface RequestRedirectFilter {
  readonly type: 'RequestRedirect';
  readonly scheme?: 'http' | 'https';
  readonly hostname?: string;
  readonly port?: number;
  readonly path?: PathModifier;
  readonly statusCode: 301 | 302 | 303 | 307 | 308;
}

export interface UrlRewriteFilter {
  readonly type: 'URLRewrite';
  readonly hostname?: string;
  readonly path?: PathModifier;
}

export interface RequestMirrorFilter {
  readonly type: 'RequestMirror';
  /** Null when the mirror's backendRef cannot be resolved: nothing is mirrored, and it is reported. */
  readonly backendId: string | null;
  /** Mirror numerator/denominator of requests (percent P is P/100; absent means 100%). */
  readonly numerator: number;
  readonly denominator: number;
  /**
   * Request bodies up to this size are mirrored; a request with a larger (or unknown-length,
   * streamed beyond it) body is not mirrored and is counted `mirror_skipped`. Default 1 MiB.
   */
  readonly maxBodyBytes: number;
  /** Mirror POST/PUT/PATCH/DELETE too (default false: only GET, HEAD, OPTIONS). */
  readonly allowUnsafeMethods: boolean;
  /** Host/:authority the mirror receives; null = the request's own Host (never a `-shadow` suffix). */
  readonly host: string | null;
  /**
   * Response comparison: when set, the primary's and the mirror's responses (bodies up to
   * maxBodyBytes) are captured and published on `mirrorChannel` as a MirrorSample, with a second
   * call to the primary backend for noise cancellation when `noise` is true (safe methods only).
   */
  readonly compare: MirrorCompare | null;
}

export interface MirrorCompare {
  /** Who the samples are for, e.g. the Rollout `namespace/name`. */
  readonly key: string;
  readonly noise: boolean;
}

export type UpstreamProtocol = 'http1' | 'h2c';

export interface BackendSpec {
  /** `Service/namespace/name:port`, or `Backend/namespace/name` for Ferry's Backend kind. */
  readonly id: string;
  readonly kind: 'Service' | 'Backend';
  readonly namespace: string;
  readonly name: string;
  /** The Service port the route refers to; 0 for a Backend (its endpoints carry their own ports). */
  readonly port: number;
  /**
   * Protocol towards the endpoints: `h2c` for GRPCRoute backends and Service ports with
   * appProtocol `kubernetes.io/h2c` or `grpc`; `http1` otherwise (WebSocket upgrades ride on http1).
   */
  readonly protocol: UpstreamProtocol;
  /** Health, balancing, failover and limits: the attached TrafficPolicy with every default filled in. */
  readonly policy: BackendPolicy;
}

/**
 * A resolved TrafficPolicy (`ferry.dev/v1alpha1`). Defaults follow Envoy's where Envoy has one.
 * State it drives (health, ejections, balancer rings, breaker counters) is keyed by backend id and
 * endpoint address, so it survives snapshot swaps.
 */
export interface BackendPolicy {
  /** `namespace/name` of the TrafficPolicy it came from, or null for the defaults. */
  readonly source: string | null;
  readonly loadBalancer: LoadBalancerSpec;
  /** Active health checking; null = off (endpoints are healthy unless outlier detection ejects them). */
  readonly healthCheck: HealthCheckSpec | null;
  /** Passive outlier detection; null = off. */
  readonly outlierDetection: OutlierDetectionSpec | null;
  /**
   * Below this share of healthy endpoints (per priority level), health is ignored and all endpoints
   * of the level are used (Envoy's panic threshold, default 50). 0 disables panic mode.
   */
  readonly panicThresholdPercent: number;
  readonly circuitBreaker: CircuitBreakerSpec;
  /** Backend-level retry defaults, used when the route rule declares no `retry`. Null = no retries. */
  readonly retry: BackendRetrySpec | null;
  /** Priority failover between groups of endpoints; null = one priority level. */
  readonly locality: LocalitySpec | null;
  /** TCP connect timeout towards endpoints (default 10000). */
  readonly connectTimeoutMs: number;
}

export type HashOn =
  | { readonly type: 'Header'; readonly name: string }
  | { readonly type: 'Cookie'; readonly name: string; readonly ttlSeconds: number; readonly path: string }
  | { readonly type: 'SourceIP' }
  | { readonly type: 'QueryParameter'; readonly name: string };

export interface LoadBalancerSpec {
  /** Default RoundRobin. */
  readonly type: 'RoundRobin' | 'LeastRequest' | 'Random' | 'RingHash' | 'Maglev';
  /** What RingHash/Maglev hash on. A Cookie hash sets the cookie when the request lacks it. */
  readonly hashOn: HashOn | null;
  /** RingHash minimum ring size (default 1024); Maglev table size is fixed at 65537. */
  readonly ringSize: number;
}

export interface HealthCheckSpec {
  readonly type: 'HTTP' | 'TCP' | 'GRPC';
  /** HTTP: request path (default `/`). */
  readonly path: string;
  /** HTTP: Host header to send (default: the endpoint address). */
  readonly host: string | null;
  /** HTTP: statuses counted healthy, as inclusive ranges (default [[200, 399]]). */
  readonly expectedStatuses: readonly (readonly [number, number])[];
  /** GRPC: `grpc.health.v1` service name (default ''). */
  readonly grpcService: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive successes to become healthy (default 1) / failures to become unhealthy (default 3). */
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** Port to probe instead of the endpoint's own port, or 0. */
  readonly port: number;
}

export interface OutlierDetectionSpec {
  /** Consecutive 5xx responses that eject (default 5; 0 disables this trigger). */
  readonly consecutive5xx: number;
  /** Consecutive 502/503/504 and connect failures that eject (default 0 = off). */
  readonly consecutiveGatewayErrors: number;
  /** Consecutive connect failures that eject (default 5; 0 disables). */
  readonly consecutiveConnectFailures: number;
  /** How often ejections are reviewed/expired (default 10000). */
  readonly intervalMs: number;
  /** Ejection time = base × number of times ejected, capped at max (defaults 30000 / 300000). */
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  /** At most this share of a backend's endpoints ejected at once (default 10, at least one endpoint). */
  readonly maxEjectionPercent: number;
}

export interface CircuitBreakerSpec {
  /** Defaults 1024 / 1024 / 1024 / 3 (Envoy). Overflow answers 503 at once. */
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
}

export interface BackendRetrySpec {
  readonly attempts: number;
  readonly perTryTimeoutMs: number | null;
  /** Any of connect-failure, reset, 5xx, gateway-error, retriable-status-codes. */
  readonly retryOn: readonly string[];
  readonly retriableStatusCodes: readonly number[];
  readonly backoffMs: number;
  /** Retries in flight at most this percent of active requests (default 20), but always ≥ minConcurrency (3). */
  readonly budgetPercent: number;
  readonly budgetMinConcurrency: number;
  /** Retry POST/PATCH even when the body may have reached the upstream (default false). */
  readonly retryNonIdempotent: boolean;
}

export interface LocalitySpec {
  /**
   * Priority levels in order: an endpoint belongs to the first level whose labels it matches (all
   * key/values); endpoints matching none form a last level. Traffic goes to the first level while
   * its healthy share is at least `minHealthyPercent`; below that, the next levels take the rest in
   * proportion (Envoy's priority spill-over), and it comes back as the first level recovers.
   */
  readonly priorities: readonly Readonly<Record<string, string>>[];
  /** Default 70. */
  readonly minHealthyPercent: number;
}

/** Live endpoints per backend id; produced from EndpointSlices, replaced without recompiling routes. */
export type EndpointSets = ReadonlyMap<string, readonly Endpoint[]>;

export interface Endpoint {
  readonly address: string;
  readonly port: number;
  /**
   * Readiness from the source (EndpointSlice `conditions.ready`, Consul passing checks...).
   * Only ready endpoints get traffic; active health checks and outlier detection narrow it further.
   */
  readonly ready: boolean;
  /** Relative endpoint weight for the balancers (default 1). */
  readonly weight?: number;
  /**
   * Labels: `ferry.dev/platform` (vm, kubernetes), `ferry.dev/cluster`, `topology.kubernetes.io/zone`,
   * `version`, plus whatever the source carries. Used by subsets, locality priorities, logs and metrics.
   */
  readonly labels: Readonly<Record<string, string>>;
}

/** Well-known endpoint label keys. */
export const LABEL_PLATFORM = 'ferry.dev/platform';
export const LABEL_CLUSTER = 'ferry.dev/cluster';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_VERSION = 'version';
