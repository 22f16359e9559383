import { checkParseSchema, policySetTextToParts, policyToJson, validate } from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicyJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicyProblem } from './policy-problem.ts';
import { policySetInvalid, problemsFromCedar } from './policy-problem.ts';
import type { PolicySourceFile, PolicySources } from './policy-sources.ts';
import { policySetVersion } from './policy-sources.ts';
import { byteOffsetOf, positionAtByteOffset } from './source-location.ts';

/** The annotation that marks a forbid as an approval gate (see cedar-policy-engine.ts). */
export const approvalAnnotation = { key: 'requires', value: 'approval' } as const;

/** One validated policy, known by its `@id`. */
export interface CedarPolicy {
  id: string;
  effect: 'permit' | 'forbid';
  /** `@reason("...")`: the sentence decisions quote. */
  reason: string | undefined;
  /** A forbid annotated `@requires("approval")`: approval lifts it. */
  requiresApproval: boolean;
  file: string;
  line: number | undefined;
  json: PolicyJson;
}

export interface CedarPolicySet {
  version: string;
  schemaText: string;
  policies: ReadonlyMap<string, CedarPolicy>;
}

interface LocatedPart {
  text: string;
  /** Byte range in the file, when the part could be found in it. */
  start: number | undefined;
  end: number | undefined;
}

/** The file's policies one by one, with where each sits, so problems can name policy and line. */
function splitPolicies(file: PolicySourceFile, problems: PolicyProblem[]): LocatedPart[] {
  const answer = policySetTextToParts(file.text);
  if (answer.type === 'failure') {
    problems.push(...problemsFromCedar(file, answer.errors));
    return [];
  }
  if (answer.policy_templates.length > 0) problems.push({ file: file.path, message: 'policy templates are not supported; write static policies' });
  // Cedar returns each policy's exact text, but sorted by its positional name, not by position;
  // searching for it (skipping places already taken, for copies) finds where it sits.
  const taken = new Set<number>();
  return answer.policies.map((text) => {
    let index = file.text.indexOf(text);
    while (index >= 0 && taken.has(index)) index = file.text.indexOf(text, index + 1);
    if (index < 0) return { text, start: undefined, end: undefined };
    taken.add(index);
    const start = byteOffsetOf(file.text, index);
    return { text, start, end: start + Buffer.byteLength(text, 'utf8') };
  });
}

function readPolicy(file: PolicySourceFile, part: LocatedPart, problems: PolicyProblem[]): CedarPolicy | undefined {
  const line = part.start === undefined ? undefined : positionAtByteOffset(file.text, part.start).line;
  const at = (message: string, policyId?: string): PolicyProblem => ({ file: file.path, ...(line === undefined ? {} : { line, column: 1 }), ...(policyId === undefined ? {} : { policyId }), message });
  const answer = policyToJson(part.text);
  if (answer.type === 'failure') {
    problems.push(...problemsFromCedar(file, answer.errors));
    return undefined;
  }
  const { json } = answer;
  const annotations = json.annotations ?? {};
  // Cedar would name policies by position (policy0, policy1 ...), which shifts whenever a file is
  // edited; the journal and the dashboard need names that stay put.
  const id = annotations['id'];
  if (id === undefined || id === '') {
    problems.push(at('every policy needs a stable name: add @id("...")'));
    return undefined;
  }
  const requires = annotations[approvalAnnotation.key];
  if (requires !== undefined && requires !== approvalAnnotation.value) problems.push(at(`@requires("${requires}") is not known; the only requirement is @requires("approval")`, id));
  const requiresApproval = requires === approvalAnnotation.value;
  if (requiresApproval && json.effect !== 'forbid') problems.push(at('@requires("approval") marks a forbid as an approval gate; it cannot be put on a permit', id));
  return { id, effect: json.effect, reason: annotations['reason'], requiresApproval, file: file.path, line, json };
}

function policyFinder(parts: readonly LocatedPart[], ids: readonly (string | undefined)[]): (byteOffset: number) => string | undefined {
  return (byteOffset) => {
    const index = parts.findIndex((part) => part.start !== undefined && part.end !== undefined && byteOffset >= part.start && byteOffset < part.end);
    return index < 0 ? undefined : ids[index];
  };
}

/**
 * Parses the schema and every policy file, validates the policies against the schema (strict
 * mode; validation warnings such as "this policy can never apply" count as problems too, since a
 * policy that cannot apply is a mistake in a reviewed file) and indexes them by `@id`. Throws one
 * KeelError listing every problem with its file, line and column.
 */
export function compileCedarPolicySet(sources: PolicySources): CedarPolicySet {
  const problems: PolicyProblem[] = [];
  const schemaAnswer = checkParseSchema(sources.schema.text);
  if (schemaAnswer.type === 'failure') throw policySetInvalid(problemsFromCedar(sources.schema, schemaAnswer.errors));

  const policies = new Map<string, CedarPolicy>();
  for (const file of sources.policies) {
    const parts = splitPolicies(file, problems);
    const read = parts.map((part) => readPolicy(file, part, problems));
    const validation = validate({ schema: sources.schema.text, policies: { staticPolicies: file.text }, validationSettings: { mode: 'strict' } });
    if (validation.type === 'failure') {
      // Parse errors were already reported by splitPolicies; only report what it did not see.
      if (parts.length > 0) problems.push(...problemsFromCedar(file, validation.errors));
      continue;
    }
    const policyAt = policyFinder(parts, read.map((policy) => policy?.id));
    for (const { error } of [...validation.validationErrors, ...validation.validationWarnings]) problems.push(...problemsFromCedar(file, [error], policyAt));
    for (const policy of read) {
      if (policy === undefined) continue;
      const earlier = policies.get(policy.id);
      if (earlier !== undefined) {
        const earlierAt = earlier.line === undefined ? earlier.file : `${earlier.file}:${earlier.line}`;
        problems.push({ file: policy.file, ...(policy.line === undefined ? {} : { line: policy.line, column: 1 }), policyId: policy.id, message: `@id is already used at ${earlierAt}` });
        continue;
      }
      policies.set(policy.id, policy);
    }
  }
  if (problems.length > 0) throw policySetInvalid(problems);
  return { version: policySetVersion(sources), schemaText: sources.schema.text, policies };
}
