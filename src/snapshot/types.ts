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
}

export type UpstreamProtocol = 'http1' | 'h2c';

export interface BackendSpec {
  /** `Service/namespace/name:port`. */
  readonly id: string;
  readonly kind: 'Service';
  readonly namespace: string;
  readonly name: string;
  /** The Service port the route refers to. */
  readonly port: number;
  /**
   * Protocol towards the endpoints: `h2c` for GRPCRoute backends and Service ports with
   * appProtocol `kubernetes.io/h2c` or `grpc`; `http1` otherwise (WebSocket upgrades ride on http1).
   */
  readonly protocol: UpstreamProtocol;
}

/** Live endpoints per backend id; produced from EndpointSlices, replaced without recompiling routes. */
export type EndpointSets = ReadonlyMap<string, readonly Endpoint[]>;

export interface Endpoint {
  readonly address: string;
  readonly port: number;
  /** EndpointSlice `conditions.ready` (absent means ready). Only ready endpoints get traffic. */
  readonly ready: boolean;
  /** Labels from the slice (platform, cluster, zone, version...), for logs and metrics. */
  readonly labels: Readonly<Record<string, string>>;
}
