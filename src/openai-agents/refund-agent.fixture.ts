/**
 * The Agents SDK loop the adapter's tests run: an `Agent` with two governed function tools, a read
 * (`lookup_order`) and a write (`issue_refund`), run by the SDK's own `Runner` with Keel as its
 * model provider (the Keel simulator, scripted), inside one Keel task. Refunds are counted, so a
 * test can tell whether the effect happened.
 */
import { Agent, Runner, tool } from '@openai/agents';
import { z } from 'zod';
import type { PolicyEngine } from '../access/index.ts';
import type { AgentRuntime } from '../agent/index.ts';
import type { TaskDefinition } from '../engine/index.ts';
import type { ScriptInput, SimulatedTurn } from '../models/index.ts';
import type { JsonValue } from '../spec/index.ts';
import { governTools, idempotencyKeyOf, keelModelProvider, throwIfRunInterrupted } from './index.ts';

export type PlannedCall = { toolName: string; input: JsonValue };

/** What the simulated model saw and what the tools did, for assertions. */
export interface AgentObservations {
  /** Model calls the simulator answered live (a replayed call never reaches it). */
  liveModelCalls: number;
  /** The tool results each live call was sent, in order. */
  toolResultsSeen: JsonValue[][];
  lookups: number;
  /** Refunds that ran, by the idempotency key they were sent with. */
  refunds: string[];
  /** What the SDK's `run` threw, if the loop ended with an error. */
  error?: unknown;
}

export function newObservations(): AgentObservations {
  return { liveModelCalls: 0, toolResultsSeen: [], lookups: 0, refunds: [] };
}

export interface RefundAgentOptions {
  runtime: () => AgentRuntime;
  /** The calls the model makes, a turn each (several at once when a turn lists them), then it answers. */
  plan: (PlannedCall | PlannedCall[])[];
  answer?: string;
  model?: string;
  policies?: PolicyEngine;
  stream?: boolean;
  maxTokens?: number;
  /** Refunds above this many cents wait for a person's approval. */
  approvalAboveCents?: number;
  observations: AgentObservations;
}

export type AgentLoopOutput = { text: string; turns: number; toolOutputs: string[] };

export function refundAgentTask(options: RefundAgentOptions): TaskDefinition<{ message: string }, AgentLoopOutput> {
  const seen = options.observations;
  const script = ({ request }: ScriptInput): SimulatedTurn => {
    seen.liveModelCalls += 1;
    seen.toolResultsSeen.push(request.messages.flatMap((message) => (message.role === 'tool' ? message.content.map((part) => part.output) : [])));
    const next = options.plan[request.messages.filter((message) => message.role === 'tool').length];
    return next === undefined ? { type: 'text', text: options.answer ?? 'Done.' } : { type: 'tool-calls', calls: Array.isArray(next) ? next : [next] };
  };
  return {
    name: 'openai-agents-refunds',
    version: '1',
    run: async (context, input) => {
      const runtime = options.runtime();
      const tools = governTools(
        [
          tool({
            name: 'lookup_order',
            description: 'Look an order up.',
            parameters: z.object({ orderId: z.string() }),
            execute: ({ orderId }) => {
              seen.lookups += 1;
              return { orderId, status: 'delivered', totalCents: 5_000 };
            },
          }),
          tool({
            name: 'issue_refund',
            description: 'Refund an order.',
            parameters: z.object({ orderId: z.string(), amountCents: z.number().int().positive() }),
            execute: (_input, _runContext, details) => {
              const key = idempotencyKeyOf(details);
              seen.refunds.push(key);
              return { refundId: `rf-${key}` };
            },
          }),
        ],
        {
          run: context,
          runtime,
          ...(options.policies === undefined ? {} : { policies: options.policies }),
          declarations: {
            lookup_order: { sideEffect: 'read', scopes: ['orders:read'] },
            issue_refund: {
              sideEffect: 'write',
              scopes: ['refunds:write'],
              ...(options.approvalAboveCents === undefined ? {} : { approval: { when: (args) => approvalReason(args, options.approvalAboveCents ?? 0) } }),
            },
          },
        },
      );
      const agent = new Agent({
        name: 'Refunds',
        instructions: 'You refund orders.',
        model: options.model ?? 'sim:default',
        tools,
        ...(options.maxTokens === undefined ? {} : { modelSettings: { maxTokens: options.maxTokens } }),
      });
      const runner = new Runner({ modelProvider: keelModelProvider({ run: context, runtime, simulator: { script } }), workflowName: 'refunds' });
      try {
        const result = options.stream === true ? await streamed(runner, agent, input.message) : await runner.run(agent, input.message, { maxTurns: 6 });
        const toolOutputs = result.newItems.flatMap((item) => (item.type === 'tool_call_output_item' ? [typeof item.output === 'string' ? item.output : JSON.stringify(item.output)] : []));
        return { text: String(result.finalOutput ?? ''), turns: result.rawResponses.length, toolOutputs };
      } catch (error) {
        seen.error = error;
        // The SDK saw a stop of the run inside a tool as a failed tool call: the engine gets what stopped it.
        throwIfRunInterrupted(context);
        throw error;
      }
    },
  };
}

async function streamed(runner: Runner, agent: Agent<unknown, 'text'>, message: string) {
  const result = await runner.run(agent, message, { maxTurns: 6, stream: true });
  await result.completed;
  const failure: unknown = result.error;
  if (failure !== null && failure !== undefined) throw failure instanceof Error ? failure : new Error(JSON.stringify(failure));
  return result;
}

function approvalReason(args: JsonValue, aboveCents: number): string | undefined {
  const amount = typeof args === 'object' && args !== null && !Array.isArray(args) ? args.amountCents : undefined;
  return typeof amount === 'number' && amount > aboveCents ? `a refund of ${amount} cents is above ${aboveCents}` : undefined;
}
