import { z } from 'zod';
import { KeelError } from '../errors/index.ts';
import type { JsonValue, ToolDefinitionV1 } from '../spec/index.ts';
import type { AnyToolV1 } from './tool-spec.ts';

/**
 * How a model sees a tool. The JSON Schema describes the input side of the schema (what the model
 * sends, before defaults), and drops `$schema`, which some providers reject and none need.
 */
export function toolDefinitionOf(tool: AnyToolV1): ToolDefinitionV1 {
  return { name: tool.name, description: tool.description, inputSchema: tool.inputJsonSchema ?? inputJsonSchemaOf(tool) };
}

function inputJsonSchemaOf(tool: AnyToolV1): JsonValue {
  let schema: Record<string, unknown>;
  try {
    schema = z.toJSONSchema(tool.inputSchema, { io: 'input' });
  } catch (error) {
    // Transforms, dates and the like cannot be shown to a model; say so at registration, not mid-run.
    throw new KeelError('config-invalid', `tool ${tool.name}: its input schema has no JSON Schema form (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  const { $schema: _dialect, ...rest } = schema;
  return rest as JsonValue;
}
