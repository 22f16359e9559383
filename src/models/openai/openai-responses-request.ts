import type { ResponseCreateParamsNonStreaming, ResponseInputItem, ToolChoiceFunction, ToolChoiceOptions } from 'openai/resources/responses/responses';
import type { GenerateOptionsV1, MessageV1, ToolChoiceV1 } from '../../spec/index.ts';
import { ModelCallError } from '../model-call-error.ts';
import { jsonSchemaObject } from './json-schema-object.ts';
import type { OpenAICall } from './openai-call.ts';
import { describeCall } from './openai-call.ts';
import { toolArgumentsText, toolOutputText } from './tool-payload-text.ts';

/**
 * GenerateOptionsV1 → a Responses API request body (without `stream`). Keel sends the whole
 * conversation every call and never uses `previous_response_id`, so `store: false`: nothing is
 * kept at OpenAI that Keel's own journal does not already hold.
 */
export function responsesRequestBody(options: GenerateOptionsV1, call: OpenAICall): ResponseCreateParamsNonStreaming {
  // The Responses API has no stop sequences; silently ignoring them would change what the caller gets.
  if (options.stopSequences !== undefined && options.stopSequences.length > 0) {
    throw new ModelCallError('model-request-invalid', `${describeCall(call)}: the Responses API does not support stopSequences (use api 'chat')`, {
      provider: call.provider,
      modelId: call.modelId,
    });
  }
  const { instructions, input } = responsesInput(options.messages);
  const body: ResponseCreateParamsNonStreaming = { model: call.modelId, input, store: false };
  if (instructions !== undefined) body.instructions = instructions;
  const tools = options.tools ?? [];
  if (tools.length > 0) {
    body.tools = tools.map((tool) => ({
      type: 'function',
      name: tool.name,
      description: tool.description,
      parameters: jsonSchemaObject(tool.inputSchema, `tool ${tool.name}'s inputSchema`, call),
      // Responses defaults function tools to strict, which rejects any schema that does not close
      // every object; Keel's tool schemas are ordinary JSON Schema, so strictness is opted out of.
      strict: false,
    }));
    if (options.toolChoice !== undefined) body.tool_choice = responsesToolChoice(options.toolChoice);
  }
  const format = options.responseFormat;
  if (format !== undefined) {
    body.text = {
      format:
        format.schema === undefined
          ? { type: 'json_object' }
          : { type: 'json_schema', name: format.name ?? 'response', schema: jsonSchemaObject(format.schema, 'responseFormat.schema', call), strict: true },
    };
  }
  if (options.maxOutputTokens !== undefined) body.max_output_tokens = options.maxOutputTokens;
  if (options.temperature !== undefined) body.temperature = options.temperature;
  if (options.topP !== undefined) body.top_p = options.topP;
  // `seed` has no Responses equivalent; it is a best-effort hint, so dropping it changes nothing promised.
  return body;
}

/**
 * Leading system messages become `instructions`; a system message later in the conversation
 * stays in place as an input message. Assistant turns split into a message item for their text
 * and one `function_call` item per tool call, in the order they were produced.
 */
function responsesInput(messages: MessageV1[]): { instructions: string | undefined; input: ResponseInputItem[] } {
  const instructions: string[] = [];
  const input: ResponseInputItem[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        if (input.length === 0) instructions.push(message.content);
        else input.push({ type: 'message', role: 'system', content: message.content });
        break;
      case 'user':
        input.push({ type: 'message', role: 'user', content: message.content.map((part) => ({ type: 'input_text', text: part.text })) });
        break;
      case 'assistant': {
        let text = '';
        const flushText = (): void => {
          if (text !== '') input.push({ type: 'message', role: 'assistant', content: text });
          text = '';
        };
        for (const part of message.content) {
          if (part.type === 'text') {
            text += part.text;
            continue;
          }
          flushText();
          input.push({ type: 'function_call', call_id: part.toolCallId, name: part.toolName, arguments: toolArgumentsText(part.input) });
        }
        flushText();
        break;
      }
      case 'tool':
        for (const part of message.content) input.push({ type: 'function_call_output', call_id: part.toolCallId, output: toolOutputText(part) });
        break;
    }
  }
  return { instructions: instructions.length > 0 ? instructions.join('\n\n') : undefined, input };
}

function responsesToolChoice(choice: ToolChoiceV1): ToolChoiceOptions | ToolChoiceFunction {
  if (typeof choice === 'string') return choice;
  return { type: 'function', name: choice.toolName };
}
