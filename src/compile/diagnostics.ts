/** Small constructors for conditions and resource-positioned ConfigErrors used across compile. */
import type { ConfigError } from '../lib/index.ts';
import { positionOf, type Resource } from '../resources/index.ts';
import type { Condition } from '../snapshot/index.ts';

export function condition(type: string, ok: boolean, reason: string, message: string): Condition {
  return { type, status: ok ? 'True' : 'False', reason, message };
}

/** A ConfigError about `field` of `resource`, positioned at that field (or its nearest ancestor). */
export function resourceError(
  resource: Resource,
  field: string,
  message: string,
  severity: 'error' | 'warning' = 'error',
): ConfigError {
  return {
    ...positionOf(resource, field),
    kind: resource.kind,
    namespace: resource.metadata.namespace,
    name: resource.metadata.name,
    field,
    message,
    severity,
  };
}

/** A reference problem as Gateway API reports it: a reason plus the field and message for the error. */
export interface RefProblem {
  readonly reason: string;
  readonly field: string;
  readonly message: string;
}
