import { KeelError } from '../errors/index.ts';
import type { GenerateOptionsV1, GenerateResultV1 } from '../spec/index.ts';
import type { ContractViolation, LowConfidence } from './contract-violation.ts';
import type { FailedAttempt } from './contract-violation-error.ts';
import { ContractViolationError } from './contract-violation-error.ts';
import type { ContractValidation, OutputContract } from './output-contract.ts';
import { repairRequest } from './repair-request.ts';

/**
 * One durable model call, named: `context.model(name, model, request)` in a task (see
 * `modelSteps`), so every attempt and every repair is its own journaled step, replayed on resume.
 */
export type ContractModelCall = (stepName: string, request: GenerateOptionsV1) => Promise<GenerateResultV1>;

/** What was decided about one answer, for whoever journals validations. */
export interface ContractCheck {
  step: string;
  contract: string;
  contractVersion: string;
  /** Empty when the answer met the contract. */
  violations: ContractViolation[];
  lowConfidence?: LowConfidence;
}

export interface GenerateWithContractOptions {
  /** Re-asks after the first answer; 0 validates without repairing. Default 2. */
  maxRepairs?: number;
  /** Step name of the first call; repairs are `${label}-repair-1`, … Default: the contract's name. */
  label?: string;
  /** Told of every validation, passing or not (journal it as output-validated). */
  onCheck?: (check: ContractCheck) => void;
}

export interface ContractResult<Value> {
  value: Value;
  /** How many re-asks it took (0: the first answer was valid). */
  repairs: number;
  /** The answers that broke the contract on the way, first to last. */
  violationsSeen: FailedAttempt[];
  /** The output's stated confidence, when the contract names a confidence field. */
  confidence?: number;
  /** Set when that confidence is under the minimum: for the caller's failure contract to act on. */
  lowConfidence?: LowConfidence;
}

export const defaultMaxRepairs = 2;

/**
 * Asks `call` for output under `contract`: provider-native structured output with the contract's
 * JSON Schema, validated anyway (native modes drift, truncate, and some providers have none). A
 * violation is re-asked with the answer and the violations, at most `maxRepairs` times, then
 * thrown as a ContractViolationError. Low confidence is not re-asked (asking again does not make
 * a model surer, only more likely to inflate the number); it is returned flagged. A refusal is
 * not a violation either and is thrown as `model-refused`.
 */
export async function generateWithContract<Value>(
  call: ContractModelCall,
  request: GenerateOptionsV1,
  contract: OutputContract<Value>,
  options: GenerateWithContractOptions = {},
): Promise<ContractResult<Value>> {
  const maxRepairs = options.maxRepairs ?? defaultMaxRepairs;
  if (!Number.isInteger(maxRepairs) || maxRepairs < 0) throw new KeelError('usage-invalid', `maxRepairs must be an integer of at least 0, got ${maxRepairs}`);
  const label = options.label ?? contract.name;
  // The contract decides the output format: a caller's own responseFormat would ask for something else.
  const structured: GenerateOptionsV1 = { ...request, responseFormat: { type: 'json', schema: contract.jsonSchema, name: contract.name } };
  const violationsSeen: FailedAttempt[] = [];
  let current = structured;
  for (let repair = 0; ; repair += 1) {
    const step = repair === 0 ? label : `${label}-repair-${repair}`;
    const result = await call(step, current);
    if (result.finishReason === 'refusal' || result.refusal !== undefined) {
      throw new KeelError('model-refused', `model refused at step ${step} (output contract ${contract.name}): ${result.refusal ?? 'no reason given'}`, {
        details: { step, contract: contract.name, contractVersion: contract.version, refusal: result.refusal ?? null },
      });
    }
    const text = answerText(result);
    const validation = validateAnswer(contract, result, text);
    const check: ContractCheck = { step, contract: contract.name, contractVersion: contract.version, violations: validation.ok ? [] : validation.violations };
    if (validation.ok && validation.lowConfidence !== undefined) check.lowConfidence = validation.lowConfidence;
    options.onCheck?.(check);
    if (validation.ok) {
      const outcome: ContractResult<Value> = { value: validation.value, repairs: repair, violationsSeen };
      if (validation.confidence !== undefined) outcome.confidence = validation.confidence;
      if (validation.lowConfidence !== undefined) outcome.lowConfidence = validation.lowConfidence;
      return outcome;
    }
    violationsSeen.push({ step, violations: validation.violations });
    if (repair >= maxRepairs) throw new ContractViolationError(contract, violationsSeen);
    current = repairRequest(structured, text, validation.violations, contract);
  }
}

function validateAnswer<Value>(contract: OutputContract<Value>, result: GenerateResultV1, text: string): ContractValidation<Value> {
  if (text === '') {
    const only = result.content.some((part) => part.type === 'tool-call') ? 'only tool calls' : 'no content';
    return { ok: false, violations: [{ path: '$', code: 'no-output', message: `the answer has ${only}; expected a JSON value as text` }] };
  }
  const validation = contract.validateText(text);
  if (validation.ok || result.finishReason !== 'length') return validation;
  // Cut off by the output token limit: worth saying, since a shorter answer is the fix.
  const violations = validation.violations.map((violation) =>
    violation.code === 'json-invalid' ? { ...violation, message: `${violation.message} (the answer stopped at the output token limit; make it shorter)` } : violation,
  );
  return { ok: false, violations };
}

function answerText(result: GenerateResultV1): string {
  return result.content
    .flatMap((part) => (part.type === 'text' ? [part.text] : []))
    .join('')
    .trim();
}
