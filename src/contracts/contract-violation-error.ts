import { KeelError } from '../errors/index.ts';
import type { ContractViolation } from './contract-violation.ts';
import { formatViolation } from './contract-violation.ts';

/** One answer that broke the contract: the model step that produced it and what was wrong. */
export interface FailedAttempt {
  step: string;
  violations: ContractViolation[];
}

/** How many violations the error message spells out; `details` always has all of them. */
const listed = 5;

/**
 * The model's output still broke its contract when the repair budget ran out. Not retryable by
 * itself: the bounded re-asks already were the retries, so what happens next (another model,
 * partial output, a person) is the failure contract's decision, made on `violations`.
 */
export class ContractViolationError extends KeelError {
  readonly contract: string;
  readonly contractVersion: string;
  /** The last answer's violations. */
  readonly violations: ContractViolation[];
  /** Every failed answer, first to last. */
  readonly attempts: FailedAttempt[];

  constructor(contract: { name: string; version: string }, attempts: FailedAttempt[]) {
    const violations = attempts.at(-1)?.violations ?? [];
    const lines = violations.slice(0, listed).map(formatViolation);
    if (violations.length > listed) lines.push(`and ${violations.length - listed} more`);
    const tries = `${attempts.length} ${attempts.length === 1 ? 'answer' : 'answers'}`;
    super('output-contract-violated', `output contract ${contract.name}@${contract.version} still violated after ${tries}: ${lines.join('; ')}`, {
      retryable: false,
      details: { contract: contract.name, contractVersion: contract.version, violations, attempts },
    });
    this.name = 'ContractViolationError';
    this.contract = contract.name;
    this.contractVersion = contract.version;
    this.violations = violations;
    this.attempts = attempts;
  }
}
