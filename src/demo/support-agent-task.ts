import { KeelError } from '../errors/index.ts';
import type { RunContext, TaskDefinition } from '../engine/index.ts';
import { defineTask } from '../engine/index.ts';
import { GovernedModel, resolveModel } from '../models/index.ts';
import type { Governance, RouteConfig } from '../models/index.ts';
import type { JsonValue, MessageV1, ToolCallPartV1, ToolResultPartV1 } from '../spec/index.ts';
import type { PaymentsLedger } from './payments-ledger.ts';
import { supportScript } from './support-script.ts';
import type { OrderLookup } from './support-tools.ts';
import { autoApprovalLimitCents, issueRefund, lookupOrder, readPolicy, supportToolDefinitions } from './support-tools.ts';

export interface SupportRequest {
  [key: string]: JsonValue;
  message: string;
  /** `provider:model`, recorded in the run so a resume uses the same model. */
  model: string;
  seed: number;
}

export interface SupportAnswer {
  [key: string]: JsonValue;
  answer: string;
  refundId: string | null;
  refundCents: number | null;
}

const maxTurns = 6;

const systemPrompt =
  'You are a support agent for an online shop. Look the order up, read the refund policy for its category, ' +
  'and refund only when the policy allows it. Never refund more than the order total.';

function dollars(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}

/**
 * The demo workload: a support agent that looks up an order, reads the policy that applies and
 * issues a refund through a side-effecting tool. Every model and tool call is a durable step.
 */
export interface SupportGovernance extends Omit<Governance, 'resolveModel'> {
  /** The configured `support` route; without one, each run's route is just its requested model. */
  route?: Omit<RouteConfig, 'name'>;
  /** The hash of the configuration file the governance came from, stored with every run. */
  configHash?: string;
  /** Where API keys and base URLs are read from; default process.env. */
  environment?: Record<string, string | undefined>;
}

/**
 * Version 1 escalated refunds above the auto-approval limit (the run ended, a person took over).
 * Version 2 asks a support lead and waits for the decision, then carries on. Runs recorded by
 * version 1 still resume and replay with version 1's code.
 */
export type SupportTaskVersion = '1' | '2';

export function supportAgentTask(ledger: PaymentsLedger, governance: SupportGovernance, version: SupportTaskVersion = '2'): TaskDefinition<SupportRequest, SupportAnswer> {
  const { route, configHash, environment, ...stack } = governance;
  return defineTask({
    name: 'support-refund',
    version,
    config: { maxTurns, autoApprovalLimitCents, systemPrompt, tools: supportToolDefinitions.map((tool) => tool.name), governanceConfigHash: configHash ?? null },
    run: async (context, input) => {
      // The run's model sits behind the governance stack: routing, budgets, retries, breakers, cost.
      const model = new GovernedModel(route === undefined ? { name: 'support', models: [input.model], maxOutputTokens: 400 } : { maxOutputTokens: 400, ...route, name: 'support' }, {
        ...stack,
        resolveModel: (name) => resolveModel(name, { ...(environment === undefined ? {} : { environment }), simulator: { seed: input.seed, script: supportScript } }),
      });
      const messages: MessageV1[] = [
        { role: 'system', content: systemPrompt },
        { role: 'user', content: [{ type: 'text', text: input.message }] },
      ];
      let refund: { refundId: string; amountCents: number } | undefined;
      for (let turn = 1; turn <= maxTurns; turn += 1) {
        const result = await context.model(`turn-${turn}`, model, { messages, tools: supportToolDefinitions, maxOutputTokens: 400, temperature: 0 });
        messages.push({ role: 'assistant', content: result.content });
        const calls = result.content.filter((part): part is ToolCallPartV1 => part.type === 'tool-call');
        if (calls.length === 0) {
          const answer = result.content.map((part) => (part.type === 'text' ? part.text : '')).join('').trim();
          if (answer === '') throw new KeelError('model-error', `the model ended turn ${turn} with neither text nor a tool call`);
          return { answer, refundId: refund?.refundId ?? null, refundCents: refund?.amountCents ?? null };
        }
        const results: ToolResultPartV1[] = [];
        for (const call of calls) {
          const output = await invokeTool(context, ledger, messages, call, version);
          if (call.toolName === 'issue_refund') refund = output as { refundId: string; amountCents: number };
          results.push({ type: 'tool-result', toolCallId: call.toolCallId, toolName: call.toolName, output });
        }
        messages.push({ role: 'tool', content: results });
      }
      return context.escalate(`the agent reached no answer within ${maxTurns} turns`);
    },
  });
}

/** Runs one tool call the model asked for, with the checks the harness owns. */
async function invokeTool(context: RunContext, ledger: PaymentsLedger, messages: MessageV1[], call: ToolCallPartV1, version: SupportTaskVersion): Promise<JsonValue> {
  const input = (call.input ?? {}) as Record<string, JsonValue>;
  switch (call.toolName) {
    case 'lookup_order':
      return context.tool('lookup_order', input, (args) => lookupOrder(stringArgument(call, args, 'orderId')) as unknown as JsonValue, { idempotent: true });
    case 'read_policy': {
      const policy = await context.tool('read_policy', input, (args) => readPolicy(stringArgument(call, args, 'category')) as unknown as JsonValue, { idempotent: true });
      const document = policy as unknown as { specific: boolean; document: string };
      if (!document.specific) {
        context.markConfidence({
          subject: 'refund-policy',
          confidence: 0.6,
          reason: `no refund policy for category '${stringArgument(call, input, 'category')}'; the answer rests on the general policy (${document.document})`,
        });
      }
      return policy;
    }
    case 'issue_refund': {
      const orderId = stringArgument(call, input, 'orderId');
      const amountCents = Number(input.amountCents);
      const order = orderSeenInRun(messages, orderId);
      if (order === undefined) context.escalate(`the model asked to refund order ${orderId}, which this run never looked up`);
      if (!Number.isInteger(amountCents) || amountCents <= 0 || amountCents > order.totalCents) {
        context.escalate(`the model asked to refund ${dollars(amountCents)} on order ${orderId} whose total is ${dollars(order.totalCents)}`);
      }
      if (amountCents > autoApprovalLimitCents) {
        const reason = `refund of ${dollars(amountCents)} for order ${orderId} exceeds the ${dollars(autoApprovalLimitCents)} auto-approval limit; a support lead must approve it`;
        if (version === '1') context.escalate(reason);
        // The run waits, durably, for the decision; a denial ends it failed with the decider's reason.
        await context.approval('refund-approval', { reason, details: { orderId, amountCents } });
      }
      // The ledger deduplicates on the key, so a retry after a crash returns the first refund.
      return context.tool('issue_refund', { orderId, amountCents }, (args, info) => issueRefund(ledger, args.orderId, args.amountCents, info.idempotencyKey) as unknown as JsonValue, {
        idempotent: true,
      });
    }
    default:
      throw new KeelError('tool-error', `the model called unknown tool ${call.toolName}`);
  }
}

/** Tool arguments come from the model: check their shape before anything acts on them. */
function stringArgument(call: ToolCallPartV1, args: Record<string, JsonValue>, name: string): string {
  const value = args[name];
  if (typeof value !== 'string') throw new KeelError('tool-error', `${call.toolName}: argument ${name} must be a string, got ${JSON.stringify(value) ?? 'nothing'}`);
  return value;
}

function orderSeenInRun(messages: MessageV1[], orderId: string): { totalCents: number } | undefined {
  for (const message of messages) {
    if (message.role !== 'tool') continue;
    for (const part of message.content) {
      if (part.toolName !== 'lookup_order') continue;
      const lookup = part.output as unknown as OrderLookup;
      if (lookup.found && lookup.order.id === orderId) return lookup.order;
    }
  }
  return undefined;
}
