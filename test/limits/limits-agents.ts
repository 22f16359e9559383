/**
 * The deployment of the shared-limits tests: one config with a route under a per-tenant rate
 * limit, and two routes through `sim:default` whose breaker opens after three failures. Agents
 * answer in one model call. The failing process's agent has every simulator call fail and names a
 * route with `sim:default` alone; the watching process's agent falls back to `sim:fast`, so its
 * runs end ok whether or not the breaker sheds `sim:default`.
 */
import { defineAgent } from 'keel';
import type { KeelConfig, SimulatedTurn } from 'keel';

export const limitedTenant = 'acme';
export const rateLimit = { limit: 4, windowMs: 1_000 };
export const breakerSettings = { consecutiveFailures: 3, halfOpenAfterMs: 60_000 };

export const limitsConfig: KeelConfig = {
  version: 1,
  routes: [
    { name: 'metered', models: ['sim:fast'], rateLimit: { perTenant: rateLimit } },
    { name: 'fragile', models: ['sim:default', 'sim:fast'], resilience: { maxAttempts: 1, breaker: breakerSettings } },
    { name: 'fragile-alone', models: ['sim:default'], resilience: { maxAttempts: 1, breaker: breakerSettings } },
  ],
};

const answer = (): SimulatedTurn => ({ type: 'text', text: 'noted' });

export const meteredAgent = defineAgent({
  name: 'metered-agent',
  version: '1',
  model: 'metered',
  instructions: 'Acknowledge the note.',
  tools: [],
  simulator: { script: answer },
});

export const watchingAgent = defineAgent({
  name: 'watching-agent',
  version: '1',
  model: 'fragile',
  instructions: 'Acknowledge the note.',
  tools: [],
  simulator: { script: answer },
});

export const failingAgent = defineAgent({
  name: 'failing-agent',
  version: '1',
  model: 'fragile-alone',
  instructions: 'Acknowledge the note.',
  tools: [],
  simulator: { script: answer, faults: [{ on: { every: 1 }, fault: { type: 'server-error' } }] },
});
