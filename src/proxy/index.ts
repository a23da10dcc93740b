/**
 * The data plane: listeners, routing, filters and upstreams, driven by snapshots. Other folders import
 * only this file.
 */
export { createProxy } from './proxy.ts';
export type { ProxyOptions, ProxyLimits, BoundSocket, ApplyResult, Proxy } from './types.ts';
export { normalizeTarget, normalizePath, type EncodedSlashes, type PathPolicy } from './route/normalize-path.ts';
