import { z } from 'zod';
import type { ContractCheck, FailureContract, FailureContractRunner, OutputContract } from '../../../src/contracts/index.ts';
import { ContractViolationError, defineFailureContract, defineOutputContract } from '../../../src/contracts/index.ts';
import type { EventData } from '../../../src/journal/index.ts';
import type { ResponseFormatV1 } from '../../../src/spec/index.ts';

/** What version 3's agent ends with: the customer's answer and the facts behind it, as JSON. */
const answerSchema = z.strictObject({
  /** What the customer reads. */
  answer: z.string().min(1),
  /** The refund the agent issued in this run, or null when it issued none. */
  refundCents: z.number().int().min(0).nullable(),
  /** The policy document the answer applies (`refunds-apparel.md`). */
  policy: z.string().min(1),
  /** How sure the agent is that the policy it applied covers this order, 0 to 1. */
  confidence: z.number().min(0).max(1),
});

export type StructuredAnswer = z.output<typeof answerSchema>;

/** Below this the answer still goes out, but the run ends degraded and says why. */
export const minimumAnswerConfidence = 0.7;

/** What the run itself knows, which the model's answer must agree with. */
export interface AnswerFacts {
  /** The total of the order the run looked up; undefined when it looked none up. */
  orderTotalCents: number | undefined;
  /** The refund the run issued; null when it issued none. */
  refundCents: number | null;
}

/**
 * The contract for the final answer. Its cross-field rules hold the model's account to the run's
 * record: the refund it reports is within the order total and is the refund actually issued.
 * `facts` is read when the answer is checked, after the tool calls that establish them.
 */
export function supportAnswerContract(facts: () => AnswerFacts): OutputContract<StructuredAnswer> {
  return defineOutputContract({
    name: 'support-answer',
    version: '1',
    schema: answerSchema,
    crossFieldRules: [
      {
        id: 'refund-within-order-total',
        path: 'refundCents',
        check: (value) => {
          const total = facts().orderTotalCents;
          return value.refundCents === null || total === undefined || value.refundCents <= total || `refundCents ${value.refundCents} exceeds the order total ${total}`;
        },
      },
      {
        id: 'refund-as-issued',
        path: 'refundCents',
        check: (value) => {
          const issued = facts().refundCents;
          if (value.refundCents === issued) return true;
          return issued === null ? `refundCents is ${value.refundCents}, but no refund was issued; use null` : `refundCents is ${value.refundCents ?? 'null'}, but the refund issued was ${issued}`;
        },
      },
    ],
    confidence: { field: 'confidence', minimum: minimumAnswerConfidence },
  });
}

/** The request field that asks for the contract's JSON (what `generateWithContract` sends too). */
export function responseFormatOf(contract: OutputContract<unknown>): ResponseFormatV1 {
  return { type: 'json', schema: contract.jsonSchema, name: contract.name };
}

/** A contract check as the journal's `output-validation` event. */
export function validationEvent(check: ContractCheck, label: string): EventData['output-validation'] {
  const repair = check.step.startsWith(`${label}-repair-`) ? Number(check.step.slice(`${label}-repair-`.length)) : 0;
  const event: EventData['output-validation'] = {
    contract: check.contract,
    version: check.contractVersion,
    attempt: repair + 1,
    ok: check.violations.length === 0,
    violations: check.violations.map(({ path, code, message }) => ({ path, code, message })),
  };
  if (check.lowConfidence !== undefined) event.lowConfidence = check.lowConfidence;
  return event;
}

/**
 * What happens when the final answer is not what the contract asks for:
 * - unsure (confidence under the minimum): the answer goes out and the run ends degraded, marked;
 * - prose instead of JSON (a model or server that ignores structured output): the prose goes out,
 *   and the refund comes from the run's own record, never from the model (`prose`);
 * - JSON that breaks the contract (a refund it did not issue, over the total), or no answer at
 *   all: a person takes over, since the model's account of what it did cannot be trusted;
 * - a refusal: a person takes over.
 * Nothing is re-asked: the facts the JSON restates are the run's own, so an answer that gets them
 * wrong is a reason to look, not to ask again until it agrees.
 */
export function supportAnswerFailures<Value>(context: FailureContractRunner, answerText: string, prose: (text: string) => Value): FailureContract<Value> {
  return defineFailureContract<Value>({
    point: 'support-answer',
    on: {
      'low-confidence': { action: 'degrade', confidence: 0.6, reason: 'the agent is unsure of its answer' },
      malformed: {
        action: 'fallback',
        to: async (failure) => {
          if (isProse(failure.error, answerText)) return prose(answerText);
          return context.escalate(`the agent's final answer broke its output contract: ${failure.message}`);
        },
      },
      refusal: { action: 'escalate', reason: 'the model declined to answer the customer' },
    },
  });
}

/** Prose: text that is not JSON at all, as opposed to JSON that is wrong or cut off. */
function isProse(error: unknown, text: string): boolean {
  if (!(error instanceof ContractViolationError)) return false;
  return error.violations.every((violation) => violation.code === 'json-invalid') && !/^\s*[[{"]/.test(text);
}
