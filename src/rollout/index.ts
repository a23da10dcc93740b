/** Progressive delivery: rollout specs resolved to steps, analysis, the controller and its saved state. */
export { analyze } from './analysis.ts';
export type { AnalysisInput, AnalysisResult, AnalysisSettings, Check, Verdict } from './analysis.ts';
export { createRolloutController } from './controller.ts';
export type { RolloutController, RolloutControllerOptions } from './controller.ts';
export { diffSeries, mirrorSeries, recordDiffVerdict, recordMirrored, windowMeasure } from './measure.ts';
export { CANDIDATE_ONLY, resolveAnalysis, resolveRollout, specHash, STABLE_ONLY } from './spec.ts';
export type { AnalysisMode, HashOn, HeaderGateMatch, ResolvedAnalysis, ResolvedRollout, ResolvedStep, StepKind, TrafficOverride } from './spec.ts';
export { createFileStateStore, createMemoryStateStore, PHASES, writeFileAtomic } from './state-store.ts';
export type { FileStateStoreOptions, Phase, PersistedRollout, RolloutEvent, RolloutStateStore } from './state-store.ts';
export { overrideOf } from './status.ts';
export type { ControlResult, LastAnalysis, Measure, MeasureRequest, RolloutInput, RolloutStatus, RolloutTargets } from './types.ts';
