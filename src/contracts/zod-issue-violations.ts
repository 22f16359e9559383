import type { core } from 'zod';
import type { JsonValue } from '../spec/index.ts';
import type { ContractViolation } from './contract-violation.ts';
import { describeTypedValue, describeValue } from './describe-value.ts';
import { formatPath, valueAt } from './json-path.ts';
import { declaredProperties, schemaNodeAt, typeWords } from './schema-node-at.ts';

/**
 * Zod's issues as contract violations. Zod's own messages are for developers and change between
 * releases; these are worded from the issue's structured fields, the output and the contract's
 * JSON Schema only, so the same output always gets the same text, and the text tells the model
 * what the field must be and what it wrote.
 */
export function violationsFromIssues(issues: readonly core.$ZodIssue[], output: unknown, jsonSchema: JsonValue, prefix: readonly PropertyKey[] = []): ContractViolation[] {
  // Zod runs a field's checks even after its type check failed (`min(3)` on an array it refused as
  // a string), which would add a range finding about the wrong kind of value: the type is the fix.
  const wrongTypes = new Set(issues.filter((issue) => issue.code === 'invalid_type').map((issue) => pathKey(issue.path)));
  const relevant = issues.filter((issue) => issue.code === 'invalid_type' || !wrongTypes.has(pathKey(issue.path)));
  return relevant.flatMap((issue) => violationsFromIssue(issue, output, jsonSchema, [...prefix, ...issue.path]));
}

function pathKey(path: readonly PropertyKey[]): string {
  return JSON.stringify(path.map((segment) => (typeof segment === 'symbol' ? segment.toString() : segment)));
}

function violationsFromIssue(issue: core.$ZodIssue, output: unknown, jsonSchema: JsonValue, segments: PropertyKey[]): ContractViolation[] {
  const path = formatPath(segments);
  const at = valueAt(output, segments);
  const missing = (expected: string): ContractViolation[] => [{ path, code: 'missing-field', message: missingMessage(expected, output, jsonSchema, segments) }];
  switch (issue.code) {
    case 'invalid_type': {
      const expected = typeWords(schemaNodeAt(jsonSchema, segments)) ?? expectedWords(issue.expected);
      if (!at.found) return missing(expected);
      return [{ path, code: 'wrong-type', message: `expected ${expected}, got ${describeTypedValue(at.value)}` }];
    }
    case 'invalid_value': {
      const allowed = allowedWords(issue.values);
      if (!at.found) return missing(allowed);
      return [{ path, code: 'not-in-enum', message: `must be ${allowed}, got ${describeValue(at.value)}` }];
    }
    case 'too_big':
    case 'too_small':
      return [{ path, code: 'out-of-range', message: rangeMessage(issue, at.found ? at.value : undefined) }];
    case 'invalid_format':
      return [{ path, code: 'invalid-format', message: `must ${formatWords(issue)}, got ${describeValue(at.found ? at.value : undefined)}` }];
    case 'not_multiple_of':
      return [{ path, code: 'invalid-value', message: `must be a multiple of ${issue.divisor}, got ${describeValue(at.found ? at.value : undefined)}` }];
    case 'unrecognized_keys': {
      const allowed = declaredProperties(schemaNodeAt(jsonSchema, segments), jsonSchema);
      const message = `field is not in the contract${allowed === undefined ? '' : ` (allowed: ${allowed.join(', ')})`}`;
      return issue.keys.map((key) => ({ path: formatPath([...segments, key]), code: 'unknown-field' as const, message }));
    }
    case 'invalid_union':
      return unionViolations(issue, output, jsonSchema, segments);
    case 'invalid_key':
      return [{ path, code: 'invalid-value', message: `has a key the contract does not allow${keyReason(issue)}` }];
    case 'invalid_element':
      return [{ path, code: 'invalid-value', message: 'has an element the contract does not allow' }];
    case 'custom':
      // A refinement on the schema: its message is the contract author's own, and already stable.
      return [{ path, code: 'invalid-value', message: issue.message }];
  }
}

/**
 * A union no branch accepted. A discriminated union names the allowed tags; alternatives of plain
 * types (`string | number`) are named together; otherwise the branch the output came closest to
 * (fewest issues, first on a tie) says what to fix, which is what a model can act on.
 */
function unionViolations(issue: core.$ZodIssueInvalidUnion, output: unknown, jsonSchema: JsonValue, segments: PropertyKey[]): ContractViolation[] {
  const path = formatPath(segments);
  const at = valueAt(output, segments);
  const options = 'options' in issue ? issue.options : undefined;
  if (issue.discriminator !== undefined && options !== undefined) {
    const allowed = allowedWords(options);
    if (!at.found) return [{ path, code: 'missing-field', message: missingMessage(allowed, output, jsonSchema, segments) }];
    return [{ path, code: 'not-in-enum', message: `must be ${allowed}, got ${describeValue(at.value)}` }];
  }
  const branches = issue.errors;
  if (branches.length === 0) return [{ path, code: 'invalid-value', message: 'matches more than one of the allowed alternatives; it must match exactly one' }];
  const typeOnly = branches.every((branch) => branch.length === 1 && branch[0]?.code === 'invalid_type' && branch[0].path.length === 0);
  if (typeOnly) {
    const expected = branches.map((branch) => (branch[0]?.code === 'invalid_type' ? expectedWords(branch[0].expected) : '')).join(' or ');
    if (!at.found) return [{ path, code: 'missing-field', message: missingMessage(expected, output, jsonSchema, segments) }];
    return [{ path, code: 'wrong-type', message: `expected ${expected}, got ${describeTypedValue(at.value)}` }];
  }
  const closest = branches.reduce((best, branch) => (branch.length < best.length ? branch : best));
  return violationsFromIssues(closest, output, jsonSchema, segments);
}

/**
 * `required field is missing (expected string)`, plus the fields the object has that the contract
 * does not name: after a silent model update renames `reason` to `rationale`, that is the clue.
 */
function missingMessage(expected: string, output: unknown, jsonSchema: JsonValue, segments: PropertyKey[]): string {
  const message = `required field is missing (expected ${expected})`;
  const parentSegments = segments.slice(0, -1);
  const parent = valueAt(output, parentSegments);
  if (!parent.found || typeof parent.value !== 'object' || parent.value === null || Array.isArray(parent.value)) return message;
  const declared = declaredProperties(schemaNodeAt(jsonSchema, parentSegments), jsonSchema);
  if (declared === undefined) return message;
  const unexpected = Object.keys(parent.value).filter((key) => !declared.includes(key));
  return unexpected.length === 0 ? message : `${message}; the object has fields the contract does not name: ${unexpected.map((key) => JSON.stringify(key)).join(', ')}`;
}

function rangeMessage(issue: core.$ZodIssueTooBig | core.$ZodIssueTooSmall, value: unknown): string {
  const big = issue.code === 'too_big';
  const bound = Number(big ? issue.maximum : issue.minimum);
  switch (issue.origin) {
    case 'string':
      return `${lengthBound(big, issue.exact, bound, 'character')}, got ${typeof value === 'string' ? [...value].length : describeValue(value)}`;
    case 'array':
    case 'set':
      return `${lengthBound(big, issue.exact, bound, 'item')}, got ${Array.isArray(value) ? value.length : describeValue(value)}`;
    default: {
      const operator = issue.exact === true ? '=' : big ? (issue.inclusive === false ? '<' : '<=') : issue.inclusive === false ? '>' : '>=';
      return `must be ${operator} ${bound}, got ${describeValue(value)}`;
    }
  }
}

function lengthBound(big: boolean, exact: boolean | undefined, bound: number, unit: string): string {
  const units = `${bound} ${unit}${bound === 1 ? '' : 's'}`;
  if (exact === true) return `must have exactly ${units}`;
  return big ? `must have at most ${units}` : `must have at least ${units}`;
}

function formatWords(issue: core.$ZodIssueInvalidStringFormat): string {
  switch (issue.format) {
    case 'regex':
      return `match the pattern ${issue.pattern ?? ''}`;
    case 'starts_with':
      return `start with ${describeValue((issue as core.$ZodIssueStringStartsWith).prefix)}`;
    case 'ends_with':
      return `end with ${describeValue((issue as core.$ZodIssueStringEndsWith).suffix)}`;
    case 'includes':
      return `include ${describeValue((issue as core.$ZodIssueStringIncludes).includes)}`;
    case 'lowercase':
    case 'uppercase':
      return `be ${issue.format}`;
    case 'email':
      return 'be an email address';
    case 'url':
      return 'be a URL';
    case 'datetime':
      return 'be an ISO 8601 date-time';
    case 'date':
      return 'be an ISO 8601 date (YYYY-MM-DD)';
    case 'time':
      return 'be an ISO 8601 time';
    case 'duration':
      return 'be an ISO 8601 duration';
    default:
      return `be a valid ${issue.format}`;
  }
}

function keyReason(issue: core.$ZodIssueInvalidKey): string {
  const first = issue.issues[0];
  if (first?.code === 'invalid_value') return ` (keys must be ${allowedWords(first.values)})`;
  if (first?.code === 'invalid_format') return ` (keys must ${formatWords(first)})`;
  return '';
}

function allowedWords(values: readonly unknown[]): string {
  const words = values.map((value) => describeValue(value));
  return words.length === 1 ? (words[0] ?? '') : `one of ${words.join(', ')}`;
}

function expectedWords(expected: string): string {
  return expected === 'int' ? 'integer' : expected;
}
