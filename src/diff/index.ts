/** Response diffing for shadow traffic: structural comparison, noise cancellation, redacted samples. */
export { compareResponses, createComparer, DEFAULT_IGNORED_HEADERS } from './compare.ts';
export type { ComparedResponse, CompareOptions, Comparer, Difference } from './compare.ts';
export { createDiffAggregator, OTHER_FIELD } from './aggregator.ts';
export type { DiffAggregator, DiffAggregatorOptions, DiffSample, FieldSummary, RecordContext, RecordResult, RouteDiffSummary } from './aggregator.ts';
export { compilePathPattern, fieldOf, pathMatcher } from './json-path.ts';
export { redactDifference, redactHeaders, redactJson, REDACTED, sampleResponse, SECRET_KEY } from './redact.ts';
export type { SampleResponse } from './redact.ts';
