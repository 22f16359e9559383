import type { JsonValue } from '../../spec/index.ts';
import { ModelCallError } from '../model-call-error.ts';
import type { OpenAICall } from './openai-call.ts';
import { describeCall } from './openai-call.ts';

/** OpenAI wants JSON Schemas as objects; anything else is the caller's mistake, caught before sending. */
export function jsonSchemaObject(schema: JsonValue, what: string, call: OpenAICall): { [key: string]: JsonValue } {
  if (typeof schema === 'object' && schema !== null && !Array.isArray(schema)) return schema;
  throw new ModelCallError('model-request-invalid', `${describeCall(call)}: ${what} must be a JSON Schema object`, { provider: call.provider, modelId: call.modelId });
}
