import { z } from 'zod';
import { KeelError } from '../errors/index.ts';
import type { AnyToolV1, JsonSchemaV1, JsonValue, ToolSchemaV1 } from '../spec/index.ts';

/** JSON has no functions, so a schema with `safeParse` is zod's and anything else is JSON Schema. */
export function isZodSchema<Value>(schema: ToolSchemaV1<Value>): schema is z.ZodType<Value> {
  return typeof (schema as { safeParse?: unknown }).safeParse === 'function';
}

// Translated once per schema object: a tool is checked on every call.
const translated = new WeakMap<JsonSchemaV1, z.ZodType>();

/** Why a JSON Schema cannot be enforced (zod cannot translate it), or undefined when it can. */
export function schemaProblem(schema: ToolSchemaV1<unknown>): string | undefined {
  try {
    checkerOf(schema);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function checkerOf<Value>(schema: ToolSchemaV1<Value>): z.ZodType<Value> {
  if (isZodSchema(schema)) return schema;
  let checker = translated.get(schema);
  if (checker === undefined) {
    checker = z.fromJSONSchema(schema);
    translated.set(schema, checker);
  }
  return checker as z.ZodType<Value>;
}

/** The zod schema that checks a tool's arguments; a JSON Schema zod cannot translate is a declaration error. */
export function inputChecker(tool: AnyToolV1): z.ZodType {
  return checked(tool, 'input', tool.inputSchema);
}

/** The zod schema that checks a tool's result. */
export function outputChecker(tool: AnyToolV1): z.ZodType {
  return checked(tool, 'output', tool.outputSchema);
}

function checked(tool: AnyToolV1, side: 'input' | 'output', schema: ToolSchemaV1<unknown>): z.ZodType {
  try {
    return checkerOf(schema);
  } catch (error) {
    throw new KeelError('config-invalid', `tool ${tool.name}: its ${side} JSON Schema cannot be enforced (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
}

/**
 * The JSON Schema a model is shown for a tool's input: a JSON Schema as written, a zod schema's
 * input side (what the model sends, before defaults). `$schema` is dropped: some providers reject
 * it and none need it.
 */
export function inputJsonSchemaOf(tool: AnyToolV1): JsonValue {
  let schema: Record<string, unknown>;
  if (isZodSchema(tool.inputSchema)) {
    try {
      schema = z.toJSONSchema(tool.inputSchema, { io: 'input' });
    } catch (error) {
      // Transforms, dates and the like cannot be shown to a model; say so at registration, not mid-run.
      throw new KeelError('config-invalid', `tool ${tool.name}: its input schema has no JSON Schema form (${error instanceof Error ? error.message : String(error)})`, { cause: error });
    }
  } else {
    schema = tool.inputSchema;
  }
  const { $schema: _dialect, ...rest } = schema;
  return rest as JsonValue;
}
