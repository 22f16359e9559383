import type { AgentDefinition } from './define-agent.ts';

/** Marks what defineAgent returns, so createKeel tells an agent from a plain task. */
export const agentBrand = Symbol.for('keel.agent');

// Apart from define-agent.ts: createKeel (and with it the gateway) checks the brand without loading
// the agent loop, its output contracts (zod), context assembly and memory.
export function isAgentDefinition(value: unknown): value is AgentDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[agentBrand] === true;
}
