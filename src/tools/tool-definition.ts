import type { AnyToolV1, ToolDefinitionV1 } from '../spec/index.ts';
import { inputJsonSchemaOf } from './tool-schema.ts';

/** How a model sees a tool: its name, description and the JSON Schema of what to send. */
export function toolDefinitionOf(tool: AnyToolV1): ToolDefinitionV1 {
  return { name: tool.name, description: tool.description, inputSchema: inputJsonSchemaOf(tool) };
}
