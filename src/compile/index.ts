/** Compile: resources → snapshot + report (pure), and EndpointSlices → endpoint sets. */
export { compile } from './compile.ts';
export type { CompileInput, CompileResult } from './compile.ts';
export { compileEndpoints, SERVICE_NAME_LABEL } from './endpoints.ts';
export type { BindOverrides } from './gateways.ts';
export { IMPLICIT_CLASS_NAME } from './gateways.ts';
export { DEFAULT_RETRY_ATTEMPTS, DEFAULT_RETRY_BACKOFF_MS } from './rules.ts';
export { stableStringify } from './stable-json.ts';
export { hostCovers, intersectHostnames, compareHostSpecificity } from './hostnames.ts';
