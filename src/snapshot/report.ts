/**
 * The compile report: per-resource status (accepted or rejected, with Gateway API-style conditions)
 * and every configuration error. Served on the admin API's /status and printed by `ferry validate`.
 */
import type { ConfigError } from '../lib/index.ts';

export interface Condition {
  /** Accepted, ResolvedRefs, Programmed, Conflicted... */
  readonly type: string;
  readonly status: 'True' | 'False';
  /** CamelCase reason, e.g. `NotAllowedByListeners`, `BackendNotFound`, `RefNotPermitted`. */
  readonly reason: string;
  readonly message: string;
}

export interface ParentStatus {
  /** `Gateway/namespace/name[/sectionName][:port]`. */
  readonly parentRef: string;
  readonly conditions: readonly Condition[];
}

export interface ResourceStatus {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Where the resource was read from. */
  readonly file: string;
  readonly line: number;
  /** False when the resource was rejected as a whole. */
  readonly accepted: boolean;
  readonly conditions: readonly Condition[];
  /** For routes: one entry per parentRef. For Gateways: one entry per listener (`listener/<name>`). */
  readonly parents: readonly ParentStatus[];
  readonly errors: readonly ConfigError[];
}

export interface CompileReport {
  readonly resources: readonly ResourceStatus[];
  /** Every error and warning, including those not tied to one resource (e.g. YAML syntax). */
  readonly errors: readonly ConfigError[];
}
