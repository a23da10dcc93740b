/** The admin API: readiness, Prometheus metrics, effective configuration and load status. */
export { createAdminServer } from './server.ts';
export type { AdminServer, AdminServerDeps } from './server.ts';
export type { AdminState, BoundSocketInfo, LastReload, RolloutAdmin, RolloutAction } from './state.ts';
export { configView, statusView, redactedJson, REDACTED } from './views.ts';
export type { ConfigView, StatusView } from './views.ts';
