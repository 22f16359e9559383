/**
 * The AI SDK loop the adapter's tests run: `generateText` (or `streamText`) with two governed
 * tools, a read (`lookup_order`) and a write (`issue_refund`), on the Keel simulator through
 * `keelMiddleware`, inside one Keel task. Refunds are recorded in a SQLite file, so a test (or a
 * test in another process) can count how many times the effect happened.
 */
import { DatabaseSync } from 'node:sqlite';
import type { StepResult, ToolSet } from 'ai';
import { generateText, stepCountIs, streamText, tool, wrapLanguageModel } from 'ai';
import { z } from 'zod';
import type { PolicyEngine } from '../access/index.ts';
import type { AgentRuntime } from '../agent/index.ts';
import type { TaskDefinition } from '../engine/index.ts';
import type { ScriptInput, SimulatedTurn } from '../models/index.ts';
import type { JsonValue } from '../spec/index.ts';
import { governTools, idempotencyKeyOf, keelMiddleware, keelModel, throwIfRunInterrupted } from './index.ts';

/** Every refund that happened, with the idempotency key it was sent with. */
export class RefundLedger {
  readonly #database: DatabaseSync;

  constructor(path: string) {
    this.#database = new DatabaseSync(path);
    this.#database.exec('CREATE TABLE IF NOT EXISTS refunds (order_id TEXT NOT NULL, amount_cents INTEGER NOT NULL, idempotency_key TEXT NOT NULL)');
  }

  record(orderId: string, amountCents: number, idempotencyKey: string): void {
    this.#database.prepare('INSERT INTO refunds (order_id, amount_cents, idempotency_key) VALUES (?, ?, ?)').run(orderId, amountCents, idempotencyKey);
  }

  refunds(): { orderId: string; key: string }[] {
    return this.#database.prepare('SELECT order_id, idempotency_key FROM refunds ORDER BY rowid').all().map((row) => ({ orderId: String(row.order_id), key: String(row.idempotency_key) }));
  }

  close(): void {
    this.#database.close();
  }
}

export type PlannedCall = { toolName: string; input: JsonValue };

/** What the simulated model saw and did, for assertions. */
export interface LoopObservations {
  /** Model calls the simulator answered live (a replayed call never reaches it). */
  liveModelCalls: number;
  /** The tool results each live call was sent, in order. */
  toolResultsSeen: JsonValue[][];
  lookups: number;
  /** What the framework threw, if the loop ended with an error. */
  error?: unknown;
}

export interface RefundLoopOptions {
  name?: string;
  /** The deployment, once it exists (the task is registered on it). */
  runtime: () => AgentRuntime;
  ledger: RefundLedger;
  /** The calls the model makes, a turn each (several at once when a turn lists them), then it answers. */
  plan: (PlannedCall | PlannedCall[])[];
  answer?: string;
  policies?: PolicyEngine;
  stream?: boolean;
  maxOutputTokens?: number;
  /** Refunds above this many cents wait for a person's approval. */
  approvalAboveCents?: number;
  /** Runs inside `lookup_order` before it answers (the durable test's child stops there). */
  onLookup?: () => Promise<void>;
  /** Runs inside `issue_refund` once the refund is recorded, before it answers. */
  onRefund?: () => Promise<void>;
  observations: LoopObservations;
}

export type LoopOutput = { text: string; steps: number; toolErrors: string[] };

export function newObservations(): LoopObservations {
  return { liveModelCalls: 0, toolResultsSeen: [], lookups: 0 };
}

export function refundLoopTask(options: RefundLoopOptions): TaskDefinition<{ message: string }, LoopOutput> {
  const seen = options.observations;
  const script = ({ request }: ScriptInput): SimulatedTurn => {
    seen.liveModelCalls += 1;
    const results = request.messages.flatMap((message) => (message.role === 'tool' ? message.content.map((part) => ({ output: part.output, isError: part.isError ?? false })) : []));
    seen.toolResultsSeen.push(results);
    const next = options.plan[request.messages.filter((message) => message.role === 'tool').length];
    return next === undefined ? { type: 'text', text: options.answer ?? 'Done.' } : { type: 'tool-calls', calls: Array.isArray(next) ? next : [next] };
  };
  return {
    name: options.name ?? 'ai-sdk-refunds',
    version: '1',
    run: async (context, input) => {
      const runtime = options.runtime();
      const model = wrapLanguageModel({ model: keelModel('sim:default', { simulator: { script } }), middleware: keelMiddleware({ run: context, runtime }) });
      const tools = governTools(
        {
          lookup_order: tool({
            description: 'Look an order up.',
            inputSchema: z.object({ orderId: z.string() }),
            execute: async ({ orderId }) => {
              seen.lookups += 1;
              await options.onLookup?.();
              return { orderId, status: 'delivered', totalCents: 5_000 };
            },
          }),
          issue_refund: tool({
            description: 'Refund an order.',
            inputSchema: z.object({ orderId: z.string(), amountCents: z.number().int().positive() }),
            execute: async ({ orderId, amountCents }, executionOptions) => {
              const key = idempotencyKeyOf(executionOptions);
              options.ledger.record(orderId, amountCents, key);
              await options.onRefund?.();
              return { refundId: `rf-${key}` };
            },
          }),
        },
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
      const settings = { model, tools, prompt: input.message, stopWhen: stepCountIs(6), maxRetries: 0, ...(options.maxOutputTokens === undefined ? {} : { maxOutputTokens: options.maxOutputTokens }) };
      let steps: StepResult<ToolSet>[];
      let text: string;
      try {
        if (options.stream === true) {
          let streamError: unknown;
          const result = streamText({ ...settings, onError: ({ error }) => (streamError = error) });
          await result.consumeStream();
          if (streamError !== undefined) throw streamError instanceof Error ? streamError : new Error(JSON.stringify(streamError));
          steps = await result.steps;
          text = await result.text;
        } else {
          const result = await generateText(settings);
          steps = result.steps;
          text = result.text;
        }
      } catch (error) {
        seen.error = error;
        throw error;
      }
      throwIfRunInterrupted(context);
      const toolErrors = steps.flatMap((step) => step.content.flatMap((part) => (part.type === 'tool-error' ? [part.error instanceof Error ? part.error.message : String(part.error)] : [])));
      return { text, steps: steps.length, toolErrors };
    },
  };
}

function approvalReason(args: JsonValue, aboveCents: number): string | undefined {
  const amount = typeof args === 'object' && args !== null && !Array.isArray(args) ? args.amountCents : undefined;
  return typeof amount === 'number' && amount > aboveCents ? `a refund of ${amount} cents is above ${aboveCents}` : undefined;
}
