/**
 * Types shared by the rollout controller and its status view: what the controller is given (the
 * rollout, its resolved targets, a way to measure), what it reports, and its per-rollout state.
 */
import type { RolloutSpec } from '../resources/rollout.ts';
import type { AnalysisInput, AnalysisResult } from './analysis.ts';
import type { ResolvedRollout, TrafficOverride } from './spec.ts';
import type { Phase, RolloutEvent } from './state-store.ts';

/** Ids the data plane uses for the rollout's rule and backends (filled in once compile resolves them). */
export interface RolloutTargets {
  /** `HTTPRoute/namespace/name/rule/<index>`. */
  readonly ruleId: string;
  /** Backend ids as in request records (`Service/ns/name:port`). */
  readonly stableBackendId: string;
  readonly candidateBackendId: string;
}

export interface RolloutInput {
  readonly namespace: string;
  readonly name: string;
  readonly spec: RolloutSpec;
  readonly targets?: RolloutTargets;
}

export interface MeasureRequest {
  /** `namespace/name`. */
  readonly rollout: string;
  readonly mode: 'traffic' | 'mirror';
  readonly targets?: RolloutTargets;
}

/**
 * Returns measurements over the `windowMs` ending at `now`, or undefined when they cannot be taken
 * (targets not resolved yet): the analysis is then inconclusive.
 */
export type Measure = (req: MeasureRequest, windowMs: number, now: number) => AnalysisInput | undefined;

export interface LastAnalysis extends AnalysisResult {
  readonly at: number;
  /** The window the analysis looked at (shorter than configured early in a step). */
  readonly windowMs: number;
}

export interface RolloutStatus {
  /** `namespace/name`. */
  readonly rollout: string;
  readonly phase: Phase;
  /** Current step index (0-based); the last step once Completed. */
  readonly step: number;
  readonly totalSteps: number;
  /** e.g. "weight 20", or null before the rollout starts. */
  readonly stepLabel: string | null;
  readonly stepStartedAt: number | null;
  readonly override: TrafficOverride;
  readonly lastAnalysis: LastAnalysis | null;
  readonly failures: number;
  readonly failureLimit: number;
  /** One line saying what the rollout is doing or waiting for. */
  readonly message: string;
  readonly history: readonly RolloutEvent[];
  readonly specHash: string;
}

export type ControlResult =
  | { readonly ok: true; readonly phase: Phase; readonly step: number }
  | { readonly ok: false; readonly error: string };

/** Mutable per-rollout state inside the controller. */
export interface RolloutState {
  readonly key: string;
  spec: RolloutSpec;
  plan: ResolvedRollout;
  hash: string;
  targets?: RolloutTargets;
  phase: Phase;
  step: number;
  stepStartedAt: number | null;
  /** Analysis only looks at measurements since this time (step start, or restart). */
  analysisStartedAt: number;
  nextAnalysisAt: number;
  pausedAt: number | null;
  pauseReason: 'operator' | 'step' | null;
  failures: number;
  last: LastAnalysis | null;
  history: RolloutEvent[];
  /** Why the last transition happened. */
  reason: string;
}
