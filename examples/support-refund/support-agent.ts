import { join } from 'node:path';
import { CedarPolicyEngine, defineAgent } from 'keel';
import type { AgentDefinition } from 'keel';
import type { SupportAnswer } from './answer-contract.ts';
import { supportAnswerContract, supportAnswerFailures } from './answer-contract.ts';
import { dollars } from './orders.ts';
import type { Payments } from './payments-ledger.ts';
import { openPayments } from './payments-ledger.ts';
import { supportScript } from './simulator-script.ts';
import { autoApprovalLimitCents, supportTools } from './tools.ts';

export const supportRefundTask = 'support-refund';

/** Who may do what, in Cedar: schema and policy files, validated when they load. */
const policies = await CedarPolicyEngine.load(join(import.meta.dirname, 'policies'));

const instructions =
  'You are a support agent for an online shop, acting for the customer who writes to you. Look their order up, ' +
  "read the refund policy for the order's category, and refund only when that policy allows it: never more than the order total. " +
  `A refund above ${dollars(autoApprovalLimitCents)} waits for a support lead's approval. ` +
  'Finish with JSON: answer (what the customer reads), refundId and refundCents (the refund you issued, or null), ' +
  'policy (the document you applied) and confidence (0 to 1: how sure you are that the policy covers this order).';

export interface SupportAgentOptions {
  /** A route of the config file or a `provider:model`; default the simulator, `sim:default`. */
  model?: string;
  /** The simulator's seed (for `sim:` models). Default 7. */
  seed?: number;
  /**
   * Where refunds are paid; default beside the run store KEEL_DB names (see openPayments), so
   * `.keel/demo-payments.db` when KEEL_DB is unset.
   */
  payments?: Payments;
}

/**
 * Version 4 of the `support-refund` task, as an agent: it looks the order up, reads the policy,
 * and refunds through a side-effecting tool that Cedar, the flow rules and an approval rule decide
 * before it runs. Versions 1 to 3 were hand-written tasks; their runs replay with their own code.
 */
export function supportRefundAgent(options: SupportAgentOptions = {}): AgentDefinition<SupportAnswer> {
  return defineAgent<SupportAnswer>({
    name: supportRefundTask,
    version: '4',
    description: 'Answers refund requests: looks the order up, applies the refund policy, refunds within it.',
    model: options.model ?? 'sim:default',
    instructions,
    tools: supportTools(options.payments ?? openPayments()),
    policies,
    output: supportAnswerContract,
    failures: supportAnswerFailures,
    limits: { maxTurns: 6, maxOutputTokens: 400, maxRepairs: 1, budgetMicros: 50_000 },
    simulator: { script: supportScript, seed: options.seed ?? 7 },
  });
}
