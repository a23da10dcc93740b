/** What the admin API reads from the running gateway: supplied by the composition root. */
import type { CompileReport, EndpointSets, Snapshot, SourceStatus } from '../snapshot/index.ts';

export interface BoundSocketInfo {
  readonly key: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: string;
}

export interface LastReload {
  /** ISO time of the load. */
  readonly at: string;
  readonly outcome: 'applied' | 'rejected' | 'unchanged';
  readonly hash: string;
  readonly errors: number;
}

export interface AdminState {
  /** True once the first snapshot is applied and while not draining. */
  ready(): boolean;
  /** The snapshot currently applied. */
  snapshot(): Snapshot | null;
  endpoints(): EndpointSets;
  /** The compile report of the latest attempt, including rejected ones. */
  report(): CompileReport | null;
  lastReload(): LastReload | null;
  /** Sockets actually bound. */
  sockets(): readonly BoundSocketInfo[];
  /** Discovery sources and their state; absent when nothing is discovered. */
  sources?(): readonly SourceStatus[];
  /** Rollouts and response diffs; absent in processes that don't run the rollout controller. */
  rollouts?: RolloutAdmin;
}

export type RolloutAction = 'promote' | 'pause' | 'resume' | 'abort' | 'retry';

/** Rollout status and control, and response-diff summaries, as the admin API exposes them. */
export interface RolloutAdmin {
  /** Status of every Rollout. */
  list(): readonly unknown[];
  /** Status of one Rollout by `namespace/name`, or undefined. */
  get(key: string): unknown;
  /** Runs a control action; `ok: false` carries why it was refused. */
  control(key: string, action: RolloutAction): { readonly ok: boolean; readonly error?: string; readonly status?: unknown };
  /** Response-diff summaries (all, or for one key). */
  diffs(key?: string): unknown;
}
