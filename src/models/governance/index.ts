export type { Alert, AlertHook } from './alerts.ts';
export type { CallSettlement, Governance, GovernedStreamResult } from './governed-model.ts';
export { GovernedModel } from './governed-model.ts';
export type { ResiliencePolicy } from './resilience-policy.ts';
export { defaultResiliencePolicy, resiliencePolicy } from './resilience-policy.ts';
export { ModelAttemptsError } from './resilient-call.ts';
export type { BudgetContract, RouteCondition, RouteConfig, RouteRule } from './route-config.ts';
export { SharedGuards } from './shared-guards.ts';
export type { SharedGuardsOptions } from './shared-guards.ts';
