import type { DetailedError } from '@cedar-policy/cedar-wasm/nodejs';
import { KeelError } from '../errors/index.ts';
import type { PolicySourceFile } from './policy-sources.ts';
import { positionAtByteOffset } from './source-location.ts';

/** One thing wrong with a policy or schema file, located the way an editor would jump to it. */
export interface PolicyProblem {
  file: string;
  line?: number;
  column?: number;
  /** The `@id` of the policy the problem is in, when it is known. */
  policyId?: string;
  message: string;
}

export function describeProblem(problem: PolicyProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.column ?? 1}`;
  const policy = problem.policyId === undefined ? '' : `policy "${problem.policyId}": `;
  return `${where}: ${policy}${problem.message}`;
}

/**
 * Cedar's wording without its internals: the positional policy name (`policy3`) means nothing to
 * whoever edits the file, and the "failed to parse ... from string" preamble says nothing the
 * location does not.
 */
function cedarWording(error: DetailedError): string {
  const message = error.message
    .replace(/^for policy `[^`]*`, /, '')
    .replace(/^failed to parse (policies|policy set|schema) from string: /, '')
    .replace(/^error parsing schema: /, '');
  const label = error.sourceLocations?.[0]?.label;
  const parts = [message];
  if (label !== null && label !== undefined && label !== '') parts.push(`(${label})`);
  if (error.help !== null && error.help !== '') parts.push(`(${error.help})`);
  return parts.join(' ').replace(/\s*\n\s*/g, ' ');
}

/** Cedar errors, and the errors related to them, as located problems in `file`. */
export function problemsFromCedar(file: PolicySourceFile, errors: readonly DetailedError[], policyAt?: (byteOffset: number) => string | undefined): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  for (const error of errors) {
    const problem: PolicyProblem = { file: file.path, message: cedarWording(error) };
    const start = error.sourceLocations?.[0]?.start;
    if (start !== undefined) {
      Object.assign(problem, positionAtByteOffset(file.text, start));
      const policyId = policyAt?.(start);
      if (policyId !== undefined) problem.policyId = policyId;
    }
    problems.push(problem);
    if (error.related !== undefined && error.related.length > 0) problems.push(...problemsFromCedar(file, error.related, policyAt));
  }
  return problems;
}

/**
 * Every problem in one error, so a bad policy set fails once, at load, with all it did wrong. The
 * message is the first problem (file, line, column, what); `details.problems` holds them all.
 */
export function policySetInvalid(problems: readonly PolicyProblem[]): KeelError {
  const [first] = problems;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  const message = `invalid policy set: ${first === undefined ? 'unknown problem' : describeProblem(first)}${more}`;
  return new KeelError('policy-invalid', message, { details: { problems: problems.map((problem) => ({ ...problem, text: describeProblem(problem) })) } });
}
