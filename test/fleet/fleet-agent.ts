/**
 * The fleet drill's agent, served by `keel worker --tasks` in every worker: a billing assistant on
 * the simulator that looks an account up (a read tool), credits it (a write tool that deduplicates
 * on its idempotency key) and answers in JSON. A credit above the approval limit waits for a person,
 * so some runs end the drill `waiting`. Two to three model calls per run, each a few micro-USD.
 */
import { z } from 'zod';
import { defineAgent, defineOutputContract, defineTool } from 'keel';
import type { AgentTool, FaultPlan, JsonValue, MessageV1, ScriptInput, SimulatedTurn } from 'keel';

/**
 * A fault plan for this process's simulator only (JSON in KEEL_FLEET_FAULTS): how the drill makes
 * one worker's calls fail. Faults are not part of the agent's configuration hash, so every worker
 * still continues every other's runs.
 */
const faults = process.env.KEEL_FLEET_FAULTS === undefined || process.env.KEEL_FLEET_FAULTS === '' ? undefined : (JSON.parse(process.env.KEEL_FLEET_FAULTS) as FaultPlan);

export const fleetTask = 'fleet-agent';
export const fleetTenant = 'fleet-tenant';
/** Credits above this wait for a person's approval. */
export const approvalLimitCents = 90_000;

/** The message of run `index`: every 25th asks for a credit above the approval limit. */
export function fleetMessage(index: number): string {
  const cents = index % 25 === 7 ? 95_000 + index : 1_000 + (index % 50) * 10;
  return `Account C-${String(index).padStart(5, '0')}: please credit ${cents} cents for the outage.`;
}

const lookupAccount = defineTool({
  name: 'lookup_account',
  version: '1',
  owner: 'billing',
  description: 'Look a customer account up by id (C-00001).',
  inputSchema: z.object({ accountId: z.string() }),
  outputSchema: z.object({ accountId: z.string(), plan: z.string(), balanceCents: z.number().int() }),
  scopes: ['accounts:read'],
  sideEffect: 'read',
  timeoutMs: 2_000,
  execute: ({ accountId }) => ({ accountId, plan: Number(accountId.slice(2)) % 3 === 0 ? 'pro' : 'basic', balanceCents: 5_000 }),
});

// The credit "system": what a deduplicating downstream returns for a key it has seen.
const creditTool = defineTool({
  name: 'credit_account',
  version: '1',
  owner: 'billing',
  description: 'Credit an account, in cents.',
  inputSchema: z.object({ accountId: z.string(), cents: z.number().int().positive() }),
  outputSchema: z.object({ creditId: z.string() }),
  scopes: ['accounts:write'],
  sideEffect: 'write',
  deduplicatesOnKey: true,
  timeoutMs: 2_000,
  approval: { when: ({ cents }) => (cents > approvalLimitCents ? `a credit of ${cents} cents is above the ${approvalLimitCents} cents limit` : undefined) },
  execute: (_input, { idempotencyKey }) => ({ creditId: `cr_${idempotencyKey}` }),
});

function resultOf(messages: readonly MessageV1[], toolName: string): JsonValue | undefined {
  for (const message of messages.toReversed()) {
    if (message.role !== 'tool') continue;
    const part = message.content.find((candidate) => candidate.toolName === toolName);
    if (part !== undefined) return part.output;
  }
  return undefined;
}

function script({ request }: ScriptInput): SimulatedTurn {
  const customer = request.messages.find((message) => message.role === 'user');
  const text = customer?.role === 'user' ? customer.content.map((part) => part.text).join(' ') : '';
  const accountId = /\b(C-\d{5})\b/.exec(text)?.[1] ?? 'C-00000';
  const cents = Number(/credit (\d+) cents/.exec(text)?.[1] ?? 0);
  if (resultOf(request.messages, 'lookup_account') === undefined) return { type: 'tool-calls', calls: [{ toolName: 'lookup_account', input: { accountId } }] };
  const credit = resultOf(request.messages, 'credit_account');
  if (credit === undefined) return { type: 'tool-calls', calls: [{ toolName: 'credit_account', input: { accountId, cents } }] };
  return { type: 'text', text: JSON.stringify({ answer: `Credited ${cents} cents to ${accountId}.`, credited: cents }) };
}

export const fleetAgent = defineAgent({
  name: fleetTask,
  version: '1',
  model: 'fleet',
  instructions: 'You are a billing assistant. Look the account up, credit what the customer asks for, and answer in JSON.',
  tools: [lookupAccount as AgentTool, creditTool as AgentTool],
  output: defineOutputContract({ name: 'credit-answer', version: '1', schema: z.object({ answer: z.string().min(1), credited: z.number().int() }) }),
  limits: { maxTurns: 5, maxOutputTokens: 120 },
  simulator: faults === undefined ? { script } : { script, faults },
});
