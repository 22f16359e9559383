/**
 * An agent that answers in one model call, on a route small enough that a budget of a few hundred
 * micro-USD covers a few dozen calls; and the config that puts its tenant under one daily budget.
 */
import { z } from 'zod';
import { defineAgent, defineOutputContract } from 'keel';
import type { KeelConfig, ScriptInput, SimulatedTurn } from 'keel';

export const budgetTenant = 'acme';
export const dailyBudgetMicros = 400;

export const spendConfig: KeelConfig = {
  version: 1,
  routes: [{ name: 'budgeted', models: ['sim:fast'], onBudgetExceeded: 'stop' }],
  budgets: [{ scope: 'tenant-day', match: budgetTenant, micros: dailyBudgetMicros }],
};

function script({ request }: ScriptInput): SimulatedTurn {
  const words = request.messages.length;
  return { type: 'text', text: JSON.stringify({ answer: `noted (${words})` }) };
}

export const spendAgent = defineAgent({
  name: 'spend-agent',
  version: '1',
  model: 'budgeted',
  instructions: 'Acknowledge the note for {{tenant}}.',
  tools: [],
  output: defineOutputContract({ name: 'ack', version: '1', schema: z.object({ answer: z.string().min(1) }) }),
  limits: { maxOutputTokens: 200 },
  simulator: { script },
});
