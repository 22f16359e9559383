/**
 * What is wrong with a model's output, one finding per violation. Codes are a closed, stable set
 * (dashboards, evals and failure contracts branch on them); messages are deterministic functions
 * of the contract and the output, with no parser or library wording in them, because they are
 * journaled and fed back to the model, and a replay must produce the same bytes.
 */
import { formatPath, parseFieldPath } from './json-path.ts';

export type ContractViolationCode =
  /** The text is not JSON at all, or was cut off. */
  | 'json-invalid'
  /** The answer had no text to validate (only tool calls, or nothing). */
  | 'no-output'
  | 'missing-field'
  | 'wrong-type'
  /** A number outside its minimum/maximum, or a string or list of the wrong length. */
  | 'out-of-range'
  /** A value not among the allowed ones (an enum, a literal, a union's discriminator). */
  | 'not-in-enum'
  /** A string that is not the declared format (email, uuid, date-time, pattern…). */
  | 'invalid-format'
  /** A key a strict object does not allow. */
  | 'unknown-field'
  /** Any other rule inside the schema (a refinement, a multiple-of, a record key). */
  | 'invalid-value'
  /** A contract's cross-field rule failed. */
  | 'cross-field'
  /** The output's own confidence is under the contract's threshold. Reported, never re-asked. */
  | 'low-confidence';

export const contractViolationCodes: readonly ContractViolationCode[] = [
  'json-invalid',
  'no-output',
  'missing-field',
  'wrong-type',
  'out-of-range',
  'not-in-enum',
  'invalid-format',
  'unknown-field',
  'invalid-value',
  'cross-field',
  'low-confidence',
];

export interface ContractViolation {
  /** JSONPath-style location (`$` is the whole output); see json-path.ts. */
  path: string;
  code: ContractViolationCode;
  message: string;
  /** The cross-field rule that failed, for `cross-field`. */
  rule?: string;
}

/** An output whose confidence is under the contract's minimum: flagged for the failure contract. */
export interface LowConfidence {
  /** The field as the contract names it (`assessment.confidence`). */
  field: string;
  value: number;
  minimum: number;
}

/** One line per violation, as the model and the journal see it: `$.amount (out-of-range): must be <= 5000, got 9000`. */
export function formatViolation(violation: ContractViolation): string {
  return `${violation.path} (${violation.code}): ${violation.message}`;
}

/** A low confidence as a violation, for a failure contract that escalates or fails on it. */
export function lowConfidenceViolation(low: LowConfidence): ContractViolation {
  return { path: formatPath(parseFieldPath(low.field)), code: 'low-confidence', message: `confidence ${low.value} is below the minimum ${low.minimum}` };
}
