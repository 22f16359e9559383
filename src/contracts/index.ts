/**
 * Output contracts: what a model's answer must be before anything downstream may use it.
 *
 * A contract is a Zod schema (required fields, types, ranges, enumerations), cross-field rules
 * and an optional confidence threshold, defined once beside the task:
 *
 *   const refundDecision = defineOutputContract({
 *     name: 'refund-decision', version: '1',
 *     schema: z.object({ decision: z.enum(['approve', 'deny']), amountCents: z.number().int().min(0),
 *                        orderTotalCents: z.number().int(), confidence: z.number().min(0).max(1) }),
 *     crossFieldRules: [{ id: 'refund-within-order', path: 'amountCents',
 *       check: (v) => v.amountCents <= v.orderTotalCents || `refund ${v.amountCents} exceeds the order total ${v.orderTotalCents}` }],
 *     confidence: { field: 'confidence', minimum: 0.7 },
 *   });
 *
 * In a task, `generateWithContract(modelSteps(context, model), request, refundDecision, { label: 'decide' })`
 * asks with provider-native structured output, validates anyway, and re-asks with the violations
 * (`decide-repair-1`, `decide-repair-2`): each attempt is a journaled model step, so a resumed run
 * replays them instead of paying again, and the violations are in the journal as the re-ask's input.
 *
 * What happens when that is not enough is the task's failure contract (wired by the engine), and
 * this module only hands it the facts:
 * - `ContractViolationError` (repairs spent): the failure contract falls back to another model,
 *   returns partial output (`context.setPartialOutput`), escalates, or fails, reading `violations`.
 * - `lowConfidence` on a valid result (never re-asked): degrade with
 *   `context.markConfidence({ subject: `${contract.name}.${low.field}`, confidence: low.value, reason })`
 *   or escalate with `lowConfidenceViolation(low)` as the reason; or accept it.
 * - `model-refused` (KeelError): the model declined; not a violation, not repaired.
 *
 * Violations have stable codes (`contractViolationCodes`) and messages worded from the contract
 * and the output only, so replays, dashboards and evals can group and compare them.
 */
export { defineOutputContract } from './output-contract.ts';
export type { ConfidenceThreshold, ContractValidation, CrossFieldRule, OutputContract, OutputContractDefinition } from './output-contract.ts';
export { contractViolationCodes, formatViolation, lowConfidenceViolation } from './contract-violation.ts';
export type { ContractViolation, ContractViolationCode, LowConfidence } from './contract-violation.ts';
export { ContractViolationError } from './contract-violation-error.ts';
export type { FailedAttempt } from './contract-violation-error.ts';
export { defaultMaxRepairs, generateWithContract } from './generate-with-contract.ts';
export type { ContractCheck, ContractModelCall, ContractResult, GenerateWithContractOptions } from './generate-with-contract.ts';
export { modelSteps } from './model-steps.ts';
export type { ModelStepRunner } from './model-steps.ts';
export { repairInstruction } from './repair-request.ts';
export type { SchemaNode } from './schema-node-at.ts';
// Failure contracts: what happens at each integration point when the answer is unsure, malformed,
// late, refused or unavailable. See failure-contract.ts and classify-failure.ts.
export { checkFailureContract, defineFailureContract, failureKinds } from './failure-contract.ts';
export type { AttemptParameters, Failure, FailureAction, FailureContract, FailureKind, FinalFailureAction, RetryParameters } from './failure-contract.ts';
export { classifyFailure } from './classify-failure.ts';
export { withFailureContract } from './with-failure-contract.ts';
export type { AttemptOutcome, FailureContractRunner, FailureDecision, WithFailureContractOptions } from './with-failure-contract.ts';
export { requestWithParameters } from './request-with-parameters.ts';
