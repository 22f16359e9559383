import { z } from 'zod';
import { KeelError } from '../errors/index.ts';
import type { JsonValue } from '../spec/index.ts';
import type { ContractViolation, LowConfidence } from './contract-violation.ts';
import { describeTypedValue } from './describe-value.ts';
import { formatPath, parseFieldPath, valueAt } from './json-path.ts';
import { parseJsonText } from './parse-json-text.ts';
import type { SchemaNode } from './schema-node-at.ts';
import { schemaNodeAt } from './schema-node-at.ts';
import { violationsFromIssues } from './zod-issue-violations.ts';

/** A rule that spans fields (a refund no larger than the order), checked once the schema passes. */
export interface CrossFieldRule<Value> {
  /** Stable and kebab-case: journaled with each violation and named to the model. */
  id: string;
  /** The field the rule is about, dotted (`refund.amountCents`); default the whole output. */
  path?: string;
  /** `true`, or what is wrong, in words the model can act on (they are sent back to it). */
  check(value: Value): true | string;
}

/** Where the output states its own confidence, and the least the caller accepts. */
export interface ConfidenceThreshold {
  /** Dotted path to a number from 0 to 1 in the output (`confidence`, `assessment.confidence`). */
  field: string;
  minimum: number;
}

export interface OutputContractDefinition<Schema extends z.ZodType> {
  /** Sent as the structured-output name, so letters, digits, `_` and `-` only, at most 64. */
  name: string;
  version: string;
  schema: Schema;
  crossFieldRules?: readonly CrossFieldRule<z.output<Schema>>[];
  confidence?: ConfidenceThreshold;
}

export type ContractValidation<Value> =
  | { ok: true; value: Value; confidence?: number; lowConfidence?: LowConfidence }
  | { ok: false; violations: ContractViolation[] };

export interface OutputContract<Value> {
  readonly name: string;
  readonly version: string;
  readonly schema: z.ZodType<Value>;
  /** The schema as JSON Schema, for `responseFormat` (provider-native structured output). */
  readonly jsonSchema: SchemaNode;
  readonly crossFieldRules: readonly CrossFieldRule<Value>[];
  readonly confidence: ConfidenceThreshold | undefined;
  /** A string is the model's JSON text; anything else is an already parsed value. */
  validate(input: unknown): ContractValidation<Value>;
  validateText(text: string): ContractValidation<Value>;
  /** For a value that is itself a string, which `validate` would read as JSON text. */
  validateValue(value: unknown): ContractValidation<Value>;
}

/**
 * An output contract: what a model's answer must be before anything downstream may use it. The
 * schema carries required fields, types, ranges and enumerations; cross-field rules what a schema
 * cannot say; the confidence threshold what the model must be sure of. Mistakes in the definition
 * are thrown here, at startup, rather than discovered on the first live answer.
 */
export function defineOutputContract<Schema extends z.ZodType>(definition: OutputContractDefinition<Schema>): OutputContract<z.output<Schema>> {
  type Value = z.output<Schema>;
  const { name, version, schema, confidence } = definition;
  const crossFieldRules = definition.crossFieldRules ?? [];
  const where = `output contract ${name}`;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) usage(`output contract name '${name}' must be 1-64 letters, digits, '_' or '-' (providers' structured-output names allow nothing else)`);
  if (version === '') usage(`${where}: version must not be empty`);
  const jsonSchema = toJsonSchema(schema, where);
  checkRules(crossFieldRules, where);
  if (confidence !== undefined) checkConfidence(confidence, jsonSchema, where);

  const validateValue = (input: unknown): ContractValidation<Value> => {
    const parsed = schema.safeParse(input);
    if (!parsed.success) return { ok: false, violations: violationsFromIssues(parsed.error.issues, input, jsonSchema) };
    const value = parsed.data;
    const violations = crossFieldRules.flatMap((rule) => crossFieldViolation(rule, value));
    if (violations.length > 0) return { ok: false, violations };
    if (confidence === undefined) return { ok: true, value };
    const stated = confidenceOf(value, confidence);
    if (typeof stated !== 'number') return { ok: false, violations: [stated] };
    if (stated < confidence.minimum) return { ok: true, value, confidence: stated, lowConfidence: { field: confidence.field, value: stated, minimum: confidence.minimum } };
    return { ok: true, value, confidence: stated };
  };
  const validateText = (text: string): ContractValidation<Value> => {
    const parsed = parseJsonText(text);
    return parsed.ok ? validateValue(parsed.value) : { ok: false, violations: [parsed.violation] };
  };
  return {
    name,
    version,
    // Zod's generic types cannot relate `Schema` to `ZodType<output<Schema>>`; they are the same.
    schema: schema as unknown as z.ZodType<Value>,
    jsonSchema,
    crossFieldRules,
    confidence,
    validate: (input) => (typeof input === 'string' ? validateText(input) : validateValue(input)),
    validateText,
    validateValue,
  };
}

function crossFieldViolation<Value>(rule: CrossFieldRule<Value>, value: Value): ContractViolation[] {
  const verdict = rule.check(value);
  if (verdict === true) return [];
  const path = formatPath(parseFieldPath(rule.path ?? '$'));
  return [{ path, code: 'cross-field', message: `${verdict} (rule ${rule.id})`, rule: rule.id }];
}

/** The stated confidence, or why it cannot be read (a schema that lets it be anything). */
function confidenceOf(value: unknown, threshold: ConfidenceThreshold): number | ContractViolation {
  const segments = parseFieldPath(threshold.field);
  const path = formatPath(segments);
  const at = valueAt(value, segments);
  if (!at.found) return { path, code: 'missing-field', message: 'required field is missing (expected number from 0 to 1)' };
  if (typeof at.value !== 'number') return { path, code: 'wrong-type', message: `expected number from 0 to 1, got ${describeTypedValue(at.value)}` };
  if (!(at.value >= 0 && at.value <= 1)) return { path, code: 'out-of-range', message: `must be >= 0 and <= 1, got ${at.value}` };
  return at.value;
}

function toJsonSchema(schema: z.ZodType, where: string): SchemaNode {
  let generated: unknown;
  try {
    generated = z.toJSONSchema(schema);
  } catch (error) {
    usage(`${where}: the schema cannot be written as JSON Schema, so no model could be asked for it (${error instanceof Error ? error.message : String(error)})`, error);
  }
  // A plain JSON copy: what is journaled with each request must be exactly what was sent.
  const { $schema: _dialect, ...node } = JSON.parse(JSON.stringify(generated)) as SchemaNode;
  // Providers' structured output (OpenAI's json_schema, Anthropic's response tool) takes an object.
  if (node.type !== 'object') usage(`${where}: the schema must describe an object (providers' structured output requires one), got ${JSON.stringify(node.type ?? null)}`);
  return node;
}

function checkRules(rules: readonly CrossFieldRule<never>[], where: string): void {
  const seen = new Set<string>();
  for (const rule of rules) {
    if (rule.id === '') usage(`${where}: every cross-field rule needs an id`);
    if (seen.has(rule.id)) usage(`${where}: cross-field rule id '${rule.id}' is used twice`);
    seen.add(rule.id);
  }
}

function checkConfidence(confidence: ConfidenceThreshold, jsonSchema: JsonValue, where: string): void {
  if (!(confidence.minimum >= 0 && confidence.minimum <= 1)) usage(`${where}: confidence minimum must be from 0 to 1, got ${confidence.minimum}`);
  const node = schemaNodeAt(jsonSchema, parseFieldPath(confidence.field));
  const type = node?.type;
  const numeric = type === 'number' || type === 'integer' || (Array.isArray(type) && (type.includes('number') || type.includes('integer')));
  if (!numeric) usage(`${where}: confidence field '${confidence.field}' must be a number in the schema, ${node === undefined ? 'but the schema has no such field' : `but it is ${JSON.stringify(type ?? null)}`}`);
}

function usage(message: string, cause?: unknown): never {
  throw new KeelError('usage-invalid', message, cause === undefined ? {} : { cause });
}
