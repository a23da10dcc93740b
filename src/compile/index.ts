/** Compile: resources (+ Rollout overrides) → snapshot + report + discovery plan + Rollout targets (pure), and EndpointSlices → endpoint sets. */
export { compile } from './compile.ts';
export type { CompileInput, CompileResult } from './compile.ts';
export { GATE_RULE_SUFFIX, ROLLOUT_MIRROR_MAX_BODY_BYTES } from './rollout-overrides.ts';
export type { TrafficOverrideInput, TrafficOverrides } from './rollout-overrides.ts';
export type { RolloutOutcome, RolloutTargetIds } from './rollouts.ts';
export { compileEndpoints, serviceEndpoints, slicesByService, SERVICE_NAME_LABEL } from './endpoints.ts';
export { sourceKey, consulAddress, dnsName } from './discovery-sources.ts';
export { backendPolicy, DEFAULT_BACKEND_RETRY, DEFAULT_MIN_HEALTHY_PERCENT } from './policy-spec.ts';
export type { BindOverrides } from './gateways.ts';
export { IMPLICIT_CLASS_NAME } from './gateways.ts';
export { DEFAULT_RETRY_ATTEMPTS, DEFAULT_RETRY_BACKOFF_MS } from './rules.ts';
export { stableStringify } from './stable-json.ts';
export { hostCovers, intersectHostnames, compareHostSpecificity } from './hostnames.ts';
