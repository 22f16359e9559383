/**
 * The gateway: Keel behind an OpenAI- and Anthropic-compatible endpoint. Every request is one
 * journaled run through the governed route (budget reserved before the call), answered whole or
 * streamed, with failures in the calling API's own error shape.
 */
export type { Gateway, GatewayOptions } from './gateway.ts';
export type { Departure, StreamFlow } from './sse-relay.ts';
export type { ClientConnection } from './serve-call.ts';
export { createGateway } from './gateway.ts';
export type { ListeningGateway, ListenOptions } from './listen-gateway.ts';
export type { AccessLogEntry } from './access-log.ts';
export { listenGateway } from './listen-gateway.ts';
export { gatewaySimulatorScript } from './simulator-script.ts';
export { principalHeader, tenantHeader } from './request-identity.ts';
export { runIdHeader } from './serve-call.ts';
export { checkVirtualKey, createVirtualKey, hashKeySecret, rotateVirtualKey } from './virtual-keys.ts';
export type { VirtualKeyRequest } from './virtual-keys.ts';
export { readKeyUsage } from './key-usage.ts';
export type { KeyUsage } from './key-usage.ts';
export { checkExposure } from './exposure.ts';
export { loadGatewayPolicies } from './gateway-policies.ts';
export { adminTokenFromEnvironment } from './admin/admin-token.ts';
export { gatewayTaskPrefix, OrphanedRuns } from './orphaned-runs.ts';
export type { OrphanedRunsOptions } from './orphaned-runs.ts';
