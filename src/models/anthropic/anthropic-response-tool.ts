import type { Tool } from '@anthropic-ai/sdk/resources/messages';
import type { JsonValue, ResponseFormatV1 } from '../../spec/index.ts';

/**
 * Structured output, done the robust way for Anthropic: a tool whose input schema is the wanted
 * schema, and a forced call to it. Tool inputs are generated against their schema, so the call's
 * input is the answer; its JSON becomes the result's text. No prompt asks for JSON and nothing
 * has to be fished out of prose.
 */
export interface ResponseTool {
  tool: Tool;
  /** The wanted schema was not an object (tool inputs must be), so it sits under `value`. */
  wrapped: boolean;
}

const defaultName = 'json_response';

export function responseToolFor(format: ResponseFormatV1 | undefined): ResponseTool | undefined {
  if (format === undefined) return undefined;
  // Without a schema the caller asked only for JSON: any object will do.
  const schema = format.schema ?? { type: 'object', additionalProperties: true };
  const wrapped = !isObjectSchema(schema);
  const inputSchema: Tool.InputSchema = wrapped
    ? { type: 'object', properties: { value: schema }, required: ['value'], additionalProperties: false }
    : (schema as unknown as Tool.InputSchema);
  return {
    tool: {
      name: toolName(format.name),
      description: 'Give your final answer by calling this tool; its input is the answer.',
      input_schema: inputSchema,
    },
    wrapped,
  };
}

/** The answer carried by the response tool's input, as JSON text. */
export function responseText(responseTool: ResponseTool, input: unknown): string {
  if (!responseTool.wrapped) return JSON.stringify(input);
  const value = input !== null && typeof input === 'object' && 'value' in input ? input.value : input;
  return JSON.stringify(value) ?? 'null';
}

function isObjectSchema(schema: JsonValue): boolean {
  return schema !== null && typeof schema === 'object' && !Array.isArray(schema) && schema.type === 'object';
}

/** Tool names must match ^[a-zA-Z0-9_-]{1,64}$. */
function toolName(name: string | undefined): string {
  const cleaned = (name ?? '').replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
  return cleaned === '' ? defaultName : cleaned;
}
