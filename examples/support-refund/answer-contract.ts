import { z } from 'zod';
import { defineFailureContract, defineOutputContract } from 'keel';

/** Below this the answer still goes out, but the run ends `degraded` and says why. */
export const minimumAnswerConfidence = 0.7;

/** What the agent ends with: the customer's answer and the facts behind it, as JSON. */
const answerSchema = z.strictObject({
  /** What the customer reads. */
  answer: z.string().min(1),
  /** The refund issued in this run (from issue_refund's result), or null when none was. */
  refundId: z.string().min(1).nullable(),
  refundCents: z.number().int().min(1).nullable(),
  /** The policy document the answer applies (`refunds-apparel.md`), or `none`. */
  policy: z.string().min(1),
  /** How sure the agent is that the policy it applied covers this order, 0 to 1. */
  confidence: z.number().min(0).max(1),
});

export type SupportAnswer = z.output<typeof answerSchema>;

export const supportAnswerContract = defineOutputContract({
  name: 'support-answer',
  version: '2',
  schema: answerSchema,
  crossFieldRules: [
    {
      id: 'refund-id-with-amount',
      path: 'refundCents',
      check: (value) => (value.refundId === null) === (value.refundCents === null) || 'refundId and refundCents are both set (a refund was issued) or both null',
    },
  ],
  confidence: { field: 'confidence', minimum: minimumAnswerConfidence },
});

/**
 * What happens when the final answer is not what the contract asks for. An unsure answer goes
 * out and the run ends degraded, marked; an answer that still breaks the contract after its
 * repair, or a refusal, goes to a person (the model's account of a refund cannot be trusted);
 * a model that cannot answer at all fails the run.
 */
export const supportAnswerFailures = defineFailureContract<SupportAnswer>({
  point: 'support-answer',
  on: {
    'low-confidence': { action: 'degrade', confidence: 0.6, reason: 'the agent is unsure of its answer' },
    malformed: { action: 'escalate', reason: "the agent's final answer broke its output contract" },
    refusal: { action: 'escalate', reason: 'the model declined to answer the customer' },
    timeout: { action: 'fail', reason: 'the model did not answer in time' },
    unavailable: { action: 'fail', reason: 'no model of the route could answer' },
  },
});
