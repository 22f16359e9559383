import type { AttemptOutcome, OutputContract } from '../../../src/contracts/index.ts';
import { generateWithContract, withFailureContract } from '../../../src/contracts/index.ts';
import { KeelError } from '../../../src/errors/index.ts';
import type { RunContext, TaskDefinition } from '../../../src/engine/index.ts';
import { defineTask } from '../../../src/engine/index.ts';
import { GovernedModel, resolveModel } from '../../../src/models/index.ts';
import type { Governance, RouteConfig } from '../../../src/models/index.ts';
import type { GenerateOptionsV1, GenerateResultV1, JsonValue, MessageV1, ToolCallPartV1, ToolResultPartV1 } from '../../../src/spec/index.ts';
import type { Order } from './orders.ts';
import type { PaymentsLedger } from './payments-ledger.ts';
import type { StructuredAnswer } from './support-answer.ts';
import { minimumAnswerConfidence, responseFormatOf, supportAnswerContract, supportAnswerFailures, validationEvent } from './support-answer.ts';
import { buildSupportContext, instructionsTemplate, policyRetrieval } from './support-context.ts';
import { supportScript } from './support-script.ts';
import type { OrderLookup } from './support-tools.ts';
import { autoApprovalLimitCents, issueRefund, lookupOrder, policiesFolder, readPolicy, supportToolDefinitions } from './support-tools.ts';
import { dollars } from './dollars.ts';

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
  /** Version 3: the policy document the answer applied, as the agent stated it; null when it stated none. */
  policy?: string | null;
  /** Version 3: the agent's stated confidence that the policy covers the order; null when it stated none. */
  confidence?: number | null;
}

const maxTurns = 6;

const systemPrompt =
  'You are a support agent for an online shop. Look the order up, read the refund policy for its category, ' +
  'and refund only when the policy allows it. Never refund more than the order total.';

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
 * Version 2 asks a support lead and waits for the decision, then carries on. Version 3 builds its
 * context before the loop (the order, the refund policy retrieved for it, a journaled manifest)
 * and ends with JSON under an output contract, so an unsure answer ends the run degraded. Runs
 * recorded by an earlier version still resume and replay with that version's code.
 */
export type SupportTaskVersion = '1' | '2' | '3';

export interface SupportTaskOptions {
  /** Where version 3 retrieves refund policies from; default the demo's policies (tests break it). */
  policiesFolder?: string;
}

export function supportAgentTask(
  ledger: PaymentsLedger,
  governance: SupportGovernance,
  version: SupportTaskVersion = '3',
  options: SupportTaskOptions = {},
): TaskDefinition<SupportRequest, SupportAnswer> {
  const { route, configHash, environment, ...stack } = governance;
  const tools = supportToolDefinitions.map((tool) => tool.name);
  return defineTask({
    name: 'support-refund',
    version,
    config:
      version === '3'
        ? {
            maxTurns,
            autoApprovalLimitCents,
            instructions: instructionsTemplate,
            retrieval: policyRetrieval,
            outputContract: { name: 'support-answer', version: '1', minimumConfidence: minimumAnswerConfidence },
            tools,
            governanceConfigHash: configHash ?? null,
          }
        : { maxTurns, autoApprovalLimitCents, systemPrompt, tools, governanceConfigHash: configHash ?? null },
    run: async (context, input) => {
      // The run's model sits behind the governance stack: routing, budgets, retries, breakers, cost.
      const model = new GovernedModel(route === undefined ? { name: 'support', models: [input.model], maxOutputTokens: 400 } : { maxOutputTokens: 400, ...route, name: 'support' }, {
        ...stack,
        resolveModel: (name) => resolveModel(name, { ...(environment === undefined ? {} : { environment }), simulator: { seed: input.seed, script: supportScript } }),
      });
      // Version 3 starts from an assembled context and asks for the contract's JSON on every turn
      // (with tools too: the model either calls one or answers); earlier versions from two messages.
      const prepared = version === '3' ? await buildSupportContext(context, input, options.policiesFolder ?? policiesFolder) : undefined;
      const messages: MessageV1[] = prepared?.messages ?? [
        { role: 'system', content: systemPrompt },
        { role: 'user', content: [{ type: 'text', text: input.message }] },
      ];
      let refund: { refundId: string; amountCents: number } | undefined;
      const contract = prepared === undefined ? undefined : supportAnswerContract(() => ({ orderTotalCents: knownOrder(messages, prepared.order)?.totalCents, refundCents: refund?.amountCents ?? null }));
      for (let turn = 1; turn <= maxTurns; turn += 1) {
        const request: GenerateOptionsV1 = { messages, tools: supportToolDefinitions, maxOutputTokens: 400, temperature: 0 };
        if (contract !== undefined) request.responseFormat = responseFormatOf(contract);
        const result = await context.model(`turn-${turn}`, model, request);
        messages.push({ role: 'assistant', content: result.content });
        const calls = result.content.filter((part): part is ToolCallPartV1 => part.type === 'tool-call');
        if (calls.length === 0) {
          const facts = { refundId: refund?.refundId ?? null, refundCents: refund?.amountCents ?? null };
          if (contract !== undefined) return answerUnderContract(context, contract, `turn-${turn}`, request, result, facts);
          const answer = answerText(result);
          if (answer === '') throw new KeelError('model-error', `the model ended turn ${turn} with neither text nor a tool call`);
          return { answer, ...facts };
        }
        const results: ToolResultPartV1[] = [];
        for (const call of calls) {
          const output = await invokeTool(context, ledger, messages, call, version, prepared?.order);
          if (call.toolName === 'issue_refund') refund = output as { refundId: string; amountCents: number };
          results.push({ type: 'tool-result', toolCallId: call.toolCallId, toolName: call.toolName, output });
        }
        messages.push({ role: 'tool', content: results });
      }
      return context.escalate(`the agent reached no answer within ${maxTurns} turns`);
    },
  });
}

function answerText(result: GenerateResultV1): string {
  return result.content
    .map((part) => (part.type === 'text' ? part.text : ''))
    .join('')
    .trim();
}

/**
 * Version 3's last turn, checked against the output contract (each check journaled as
 * `output-validation`) and handled by the answer's failure contract: an unsure answer goes out
 * and the run ends degraded. The refund in the output is always the run's own record.
 */
async function answerUnderContract(
  context: RunContext,
  contract: OutputContract<StructuredAnswer>,
  label: string,
  request: GenerateOptionsV1,
  result: GenerateResultV1,
  facts: { refundId: string | null; refundCents: number | null },
): Promise<SupportAnswer> {
  const failures = supportAnswerFailures<SupportAnswer>(context, answerText(result), (prose) => ({ answer: prose, ...facts, policy: null, confidence: null }));
  return withFailureContract(context, failures, async (): Promise<AttemptOutcome<SupportAnswer>> => {
    // The turn already asked under the contract (same responseFormat), so its answer is the first attempt.
    const checked = await generateWithContract(async () => result, request, contract, {
      label,
      maxRepairs: 0,
      onCheck: (check) => context.record('output-validation', validationEvent(check, label)),
    });
    const { answer, policy, confidence } = checked.value;
    const outcome: AttemptOutcome<SupportAnswer> = { value: { answer, ...facts, policy, confidence } };
    if (checked.lowConfidence !== undefined) outcome.lowConfidence = checked.lowConfidence;
    return outcome;
  });
}

/** Runs one tool call the model asked for, with the checks the harness owns. */
async function invokeTool(context: RunContext, ledger: PaymentsLedger, messages: MessageV1[], call: ToolCallPartV1, version: SupportTaskVersion, onFile: Order | undefined): Promise<JsonValue> {
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
      const order = knownOrder(messages, onFile, orderId);
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

/**
 * An order this run looked up: the one on file before the loop (version 3), or one the model
 * looked up; with no id, the first of them. Only these may be refunded.
 */
function knownOrder(messages: MessageV1[], onFile: Order | undefined, orderId?: string): Order | undefined {
  if (onFile !== undefined && (orderId === undefined || onFile.id === orderId)) return onFile;
  for (const message of messages) {
    if (message.role !== 'tool') continue;
    for (const part of message.content) {
      if (part.toolName !== 'lookup_order') continue;
      const lookup = part.output as unknown as OrderLookup;
      if (lookup.found && (orderId === undefined || lookup.order.id === orderId)) return lookup.order;
    }
  }
  return undefined;
}
