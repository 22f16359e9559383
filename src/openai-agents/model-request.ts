/**
 * An Agents SDK model request (ModelRequest: instructions, input items, tools, handoffs, output
 * type, settings) as Keel's request (GenerateOptionsV1): what Keel journals, reserves budget for,
 * routes on and sends to a Keel model. Handoffs are tools to the model, so they go as tools. What
 * Keel's request cannot carry is refused with one error naming it rather than dropped from the
 * record: images, files, audio, hosted and computer tools, and server-side conversation state
 * (`previousResponseId`, `conversationId`, prompt templates), because the journal must hold the
 * whole conversation for a replay to send the same request. Reasoning items are the model's own
 * record and are not sent back.
 */
import type { ModelRequest, ModelSettingsToolChoice } from '@openai/agents';
import { KeelError } from '../errors/index.ts';
import { parseToolArguments } from '../models/index.ts';
import type { GenerateOptionsV1, JsonValue, MessageV1, TextPartV1, ToolCallPartV1, ToolChoiceV1, ToolDefinitionV1, ToolResultPartV1 } from '../spec/index.ts';

type InputItem = Exclude<ModelRequest['input'], string>[number];

export function keelRequestOf(request: ModelRequest): GenerateOptionsV1 {
  if (request.previousResponseId !== undefined || request.conversationId !== undefined) {
    throw unsupported('server-side conversation state (previousResponseId / conversationId); Keel sends and journals the whole conversation');
  }
  if (request.prompt !== undefined) throw unsupported(`the prompt template ${request.prompt.promptId}`);
  const messages: MessageV1[] = [];
  if (request.systemInstructions !== undefined && request.systemInstructions !== '') messages.push({ role: 'system', content: request.systemInstructions });
  if (typeof request.input === 'string') messages.push({ role: 'user', content: [{ type: 'text', text: request.input }] });
  else for (const item of request.input) addItem(messages, item);

  const keel: GenerateOptionsV1 = { messages };
  const tools = [...request.tools.map(toolOf), ...request.handoffs.map((handoff): ToolDefinitionV1 => ({ name: handoff.toolName, description: handoff.toolDescription, inputSchema: handoff.inputJsonSchema as JsonValue }))];
  if (tools.length > 0) keel.tools = tools;
  const settings = request.modelSettings;
  const choice = toolChoiceOf(settings.toolChoice);
  if (choice !== undefined) keel.toolChoice = choice;
  if (request.outputType !== 'text') keel.responseFormat = { type: 'json', schema: request.outputType.schema, name: request.outputType.name };
  if (settings.maxTokens !== undefined) keel.maxOutputTokens = settings.maxTokens;
  if (settings.temperature !== undefined) keel.temperature = settings.temperature;
  if (settings.topP !== undefined) keel.topP = settings.topP;
  if (request.signal !== undefined) keel.abortSignal = request.signal;
  return keel;
}

function toolOf(tool: ModelRequest['tools'][number]): ToolDefinitionV1 {
  if (tool.type !== 'function') throw unsupported(`the ${tool.type} tool ${tool.name}`);
  return { name: tool.name, description: tool.description, inputSchema: tool.parameters as JsonValue };
}

function toolChoiceOf(choice: ModelSettingsToolChoice | undefined): ToolChoiceV1 | undefined {
  if (choice === undefined) return undefined;
  switch (choice) {
    case 'auto':
    case 'required':
    case 'none':
      return choice as ToolChoiceV1;
    default:
      return { toolName: choice };
  }
}

/** Appends one input item; function calls join the assistant turn before them and results the tool turn. */
function addItem(messages: MessageV1[], item: InputItem): void {
  const last = messages.at(-1);
  if ('role' in item) {
    switch (item.role) {
      case 'system':
        messages.push({ role: 'system', content: item.content });
        return;
      case 'user': {
        const content = typeof item.content === 'string' ? [{ type: 'text' as const, text: item.content }] : item.content.map(userTextOf);
        messages.push({ role: 'user', content });
        return;
      }
      case 'assistant': {
        const content: TextPartV1[] = item.content.map((part) => {
          if (part.type === 'output_text') return { type: 'text', text: part.text };
          if (part.type === 'refusal') return { type: 'text', text: part.refusal };
          throw unsupported(`${part.type} in an assistant message`);
        });
        messages.push({ role: 'assistant', content });
        return;
      }
    }
  }
  switch (item.type) {
    case 'function_call': {
      const call: ToolCallPartV1 = { type: 'tool-call', toolCallId: item.callId, toolName: item.name, input: parseToolArguments(item.arguments) };
      if (last?.role === 'assistant') last.content.push(call);
      else messages.push({ role: 'assistant', content: [call] });
      return;
    }
    case 'function_call_result': {
      const result: ToolResultPartV1 = { type: 'tool-result', toolCallId: item.callId, toolName: item.name, output: toolOutputOf(item.output, item.name) };
      if (last?.role === 'tool') last.content.push(result);
      else messages.push({ role: 'tool', content: [result] });
      return;
    }
    case 'reasoning':
    case 'compaction':
      return;
    default:
      throw unsupported(`a ${item.type ?? 'typeless'} item in the input`);
  }
}

function userTextOf(part: Exclude<Extract<InputItem, { role: 'user' }>['content'], string>[number]): TextPartV1 {
  if (part.type !== 'input_text') throw unsupported(`${part.type} in a user message`);
  return { type: 'text', text: part.text };
}

type ToolOutput = Extract<InputItem, { type: 'function_call_result' }>['output'];

function toolOutputOf(output: ToolOutput, tool: string): JsonValue {
  if (typeof output === 'string') return output;
  const parts = Array.isArray(output) ? output : [output];
  return parts
    .map((part) => {
      if (part.type === 'text' || part.type === 'input_text') return part.text;
      throw unsupported(`${part.type} in the output of ${tool}`);
    })
    .join('\n');
}

function unsupported(what: string): KeelError {
  return new KeelError('model-request-invalid', `keel/openai-agents cannot carry ${what} (it journals text, function calls and their results)`);
}
