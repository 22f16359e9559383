import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionToolChoiceOption,
  ChatCompletionUserMessageParam,
} from 'openai/resources/chat/completions';
import type { GenerateOptionsV1, MessageV1, TextPartV1, ToolCallPartV1, ToolChoiceV1 } from '../../spec/index.ts';
import { jsonSchemaObject } from './json-schema-object.ts';
import type { OpenAICall } from './openai-call.ts';
import { toolArgumentsText, toolOutputText } from './tool-payload-text.ts';

/** GenerateOptionsV1 → a Chat Completions request body (without `stream`). */
export function chatRequestBody(options: GenerateOptionsV1, call: OpenAICall): ChatCompletionCreateParamsNonStreaming {
  const body: ChatCompletionCreateParamsNonStreaming = { model: call.modelId, messages: options.messages.flatMap(chatMessages) };
  const tools = options.tools ?? [];
  if (tools.length > 0) {
    body.tools = tools.map((tool) => ({
      type: 'function',
      function: { name: tool.name, description: tool.description, parameters: jsonSchemaObject(tool.inputSchema, `tool ${tool.name}'s inputSchema`, call) },
    }));
    // OpenAI rejects tool_choice without tools, so a choice only travels with tools.
    if (options.toolChoice !== undefined) body.tool_choice = chatToolChoice(options.toolChoice);
  }
  const format = options.responseFormat;
  if (format !== undefined) {
    body.response_format =
      format.schema === undefined
        ? { type: 'json_object' }
        : { type: 'json_schema', json_schema: { name: format.name ?? 'response', schema: jsonSchemaObject(format.schema, 'responseFormat.schema', call), strict: true } };
  }
  if (options.maxOutputTokens !== undefined) body.max_completion_tokens = options.maxOutputTokens;
  if (options.temperature !== undefined) body.temperature = options.temperature;
  if (options.topP !== undefined) body.top_p = options.topP;
  if (options.stopSequences !== undefined && options.stopSequences.length > 0) body.stop = options.stopSequences;
  if (options.seed !== undefined) body.seed = options.seed;
  return body;
}

function chatMessages(message: MessageV1): ChatCompletionMessageParam[] {
  switch (message.role) {
    case 'system':
      return [{ role: 'system', content: message.content }];
    case 'user':
      return [{ role: 'user', content: userContent(message.content) }];
    case 'assistant':
      return [assistantMessage(message.content)];
    case 'tool':
      // One chat message per result: Chat Completions pairs each with its call by tool_call_id.
      return message.content.map((part) => ({ role: 'tool', tool_call_id: part.toolCallId, content: toolOutputText(part) }));
  }
}

/** A single text part is sent as a plain string, which every OpenAI-compatible server accepts. */
function userContent(parts: TextPartV1[]): ChatCompletionUserMessageParam['content'] {
  const [only] = parts;
  if (parts.length === 1 && only !== undefined) return only.text;
  return parts.map((part) => ({ type: 'text', text: part.text }));
}

function assistantMessage(parts: (TextPartV1 | ToolCallPartV1)[]): ChatCompletionAssistantMessageParam {
  const text = parts.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
  const toolCalls = parts.flatMap((part) => (part.type === 'tool-call' ? [part] : []));
  const message: ChatCompletionAssistantMessageParam = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text };
  // An empty tool_calls array is rejected, so it is only present when there are calls.
  if (toolCalls.length > 0) {
    message.tool_calls = toolCalls.map((part) => ({
      id: part.toolCallId,
      type: 'function',
      function: { name: part.toolName, arguments: toolArgumentsText(part.input) },
    }));
  }
  return message;
}

function chatToolChoice(choice: ToolChoiceV1): ChatCompletionToolChoiceOption {
  if (typeof choice === 'string') return choice;
  return { type: 'function', function: { name: choice.toolName } };
}
