/**
 * The LangChain agent the adapter's tests run: `createAgent` from the real `langchain` package
 * with two tools, a read (`lookup_order`) and a write (`issue_refund`), under `keelMiddleware`,
 * inside one Keel task. The model is Keel's simulator as a LangChain chat model, following a plan
 * of tool calls; the effects are counted so a test can see that a refused tool never ran.
 */
import { HumanMessage, ToolMessage } from '@langchain/core/messages';
import type { BaseMessage } from '@langchain/core/messages';
import { createAgent, tool } from 'langchain';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { z } from 'zod';
import type { PolicyEngine } from '../access/index.ts';
import type { AgentRuntime } from '../agent/index.ts';
import type { TaskDefinition } from '../engine/index.ts';
import type { ScriptInput, SimulatedTurn } from '../models/index.ts';
import type { JsonValue } from '../spec/index.ts';
import { idempotencyKeyOf, keelChatModel, keelMiddleware, runAgentLoop } from './index.ts';
import type { KeelMiddlewareOptions } from './index.ts';

export type PlannedCall = { toolName: string; input: JsonValue };

/** What the simulated model saw and what the tools did, for assertions. */
export interface AgentObservations {
  /** Model calls the simulator answered live (a replayed call never reaches it). */
  liveModelCalls: number;
  /** The tool results each live call was sent, in order. */
  toolResultsSeen: { output: JsonValue; isError: boolean }[][];
  lookups: number;
  weatherLookups: number;
  /** Each refund that ran, with the idempotency key it was sent with. */
  refunds: { orderId: string; key: string }[];
  /** The agent's messages when its loop ended. */
  messages: BaseMessage[];
  /** What `agent.invoke` threw, if the loop ended with an error. */
  error?: unknown;
  /** Text chunks LangChain streamed, when the agent was streamed. */
  streamedText: string[];
}

export interface RefundAgentOptions {
  name?: string;
  runtime: () => AgentRuntime;
  /** The calls the model makes, a turn each (several at once when a turn lists them), then it answers. */
  plan: (PlannedCall | PlannedCall[])[];
  answer?: string;
  policies?: PolicyEngine;
  /** Stream the agent (`streamMode: 'messages'`) rather than invoke it. */
  stream?: boolean;
  /** Another LangChain model instead of the simulator (it answers on its own; `plan` is not used). */
  model?: BaseChatModel;
  middleware?: Partial<KeelMiddlewareOptions>;
  /** Runs inside `lookup_order` before it answers (the durable test's child stops there). */
  onLookup?: () => Promise<void>;
  /** Runs inside `issue_refund` once the refund is recorded, before it answers. */
  onRefund?: () => Promise<void>;
  /** Where a refund is recorded besides the observations (the durable test keeps them in a file). */
  recordRefund?: (orderId: string, idempotencyKey: string) => void;
  /** `lookup_order` throws instead of answering. */
  failingLookup?: boolean;
  /** Give the agent the OpenAI wire server fixtures' `get_weather` tool instead of the refund tools. */
  weatherTools?: boolean;
  approvalAboveCents?: number;
  observations: AgentObservations;
}

export type AgentOutput = { text: string; toolErrors: string[] };

export function newObservations(): AgentObservations {
  return { liveModelCalls: 0, toolResultsSeen: [], lookups: 0, weatherLookups: 0, refunds: [], messages: [], streamedText: [] };
}

export function refundAgentTask(options: RefundAgentOptions): TaskDefinition<{ message: string }, AgentOutput> {
  const seen = options.observations;
  const script = ({ request }: ScriptInput): SimulatedTurn => {
    seen.liveModelCalls += 1;
    seen.toolResultsSeen.push(request.messages.flatMap((message) => (message.role === 'tool' ? message.content.map((part) => ({ output: part.output, isError: part.isError ?? false })) : [])));
    const next = options.plan[request.messages.filter((message) => message.role === 'tool').length];
    return next === undefined ? { type: 'text', text: options.answer ?? 'Done.' } : { type: 'tool-calls', calls: Array.isArray(next) ? next : [next] };
  };
  const lookupOrder = tool(
    async ({ orderId }) => {
      seen.lookups += 1;
      await options.onLookup?.();
      if (options.failingLookup === true) throw new Error('the order service is down');
      return { orderId, status: 'delivered', totalCents: 5_000 };
    },
    { name: 'lookup_order', description: 'Look an order up.', schema: z.object({ orderId: z.string() }) },
  );
  const issueRefund = tool(
    async ({ orderId }, config) => {
      const key = idempotencyKeyOf(config);
      seen.refunds.push({ orderId, key });
      options.recordRefund?.(orderId, key);
      await options.onRefund?.();
      return { refundId: `rf-${key}` };
    },
    { name: 'issue_refund', description: 'Refund an order.', schema: z.object({ orderId: z.string(), amountCents: z.number().int().positive() }) },
  );
  const getWeather = tool(
    ({ city }) => {
      seen.weatherLookups += 1;
      return `${city}: 18 C`;
    },
    { name: 'get_weather', description: 'The weather in a city.', schema: z.object({ city: z.string(), unit: z.string() }) },
  );
  return {
    name: options.name ?? 'langchain-refunds',
    version: '1',
    run: async (context, input) => {
      const runtime = options.runtime();
      const approvalAbove = options.approvalAboveCents;
      const middleware = keelMiddleware({
        run: context,
        runtime,
        ...(options.policies === undefined ? {} : { policies: options.policies }),
        declarations: {
          lookup_order: { sideEffect: 'read', scopes: ['orders:read'] },
          issue_refund: { sideEffect: 'write', scopes: ['refunds:write'], ...(approvalAbove === undefined ? {} : { approval: { when: (args) => approvalReason(args, approvalAbove) } }) },
        },
        ...options.middleware,
      });
      const agent = createAgent({ model: options.model ?? keelChatModel('sim:default', { simulator: { script } }), tools: options.weatherTools === true ? [getWeather] : [lookupOrder, issueRefund], middleware: [middleware] });
      const prompt = { messages: [new HumanMessage(input.message)] };
      const messages = await runAgentLoop(context, async () => {
        try {
          if (options.stream !== true) return (await agent.invoke(prompt)).messages;
          const stream = await agent.stream(prompt, { streamMode: ['messages', 'values'] });
          let last: BaseMessage[] = [];
          for await (const [mode, chunk] of stream) {
            if (mode === 'messages') {
              const [message] = chunk as [BaseMessage, unknown];
              if (message.getType() === 'ai' && message.text !== '') seen.streamedText.push(message.text);
            } else last = (chunk as { messages: BaseMessage[] }).messages;
          }
          return last;
        } catch (error) {
          seen.error = error;
          throw error;
        }
      });
      seen.messages = messages;
      const toolErrors = messages.filter((message) => ToolMessage.isInstance(message) && message.status === 'error').map((message) => message.text);
      return { text: messages.at(-1)?.text ?? '', toolErrors };
    },
  };
}

function approvalReason(args: JsonValue, aboveCents: number): string | undefined {
  const amount = typeof args === 'object' && args !== null && !Array.isArray(args) ? args.amountCents : undefined;
  return typeof amount === 'number' && amount > aboveCents ? `a refund of ${amount} cents is above ${aboveCents}` : undefined;
}
