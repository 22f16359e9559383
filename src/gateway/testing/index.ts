// A gateway on a loopback port and a fresh database, for tests only.
export type { TestGateway } from './test-gateway.ts';
export { simDefaultCost, startTestGateway } from './test-gateway.ts';
export { FloodUpstream } from './flood-upstream.ts';
