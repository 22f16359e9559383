/**
 * An AI SDK call (LanguageModelV4CallOptions) as Keel's request (GenerateOptionsV1): what Keel
 * journals, counts for the budget reservation, routes on and sends to a Keel model. What Keel's
 * request cannot carry is refused with one error naming it, rather than dropped from the record:
 * files and provider-defined tools. Reasoning the model gave in earlier turns is not sent back.
 */
import type { LanguageModelV4CallOptions, LanguageModelV4Message, LanguageModelV4ToolResultOutput } from '@ai-sdk/provider';
import { UnsupportedFunctionalityError } from '@ai-sdk/provider';
import { jsonOf } from '../framework/index.ts';
import type { GenerateOptionsV1, JsonValue, MessageV1, TextPartV1, ToolCallPartV1, ToolChoiceV1, ToolResultPartV1 } from '../spec/index.ts';

export function keelRequestOf(options: LanguageModelV4CallOptions): GenerateOptionsV1 {
  const request: GenerateOptionsV1 = { messages: options.prompt.flatMap(messageOf) };
  if (options.tools !== undefined && options.tools.length > 0) {
    request.tools = options.tools.map((tool) => {
      if (tool.type !== 'function') throw unsupported(`provider-defined tool ${tool.name}`);
      return { name: tool.name, description: tool.description ?? '', inputSchema: tool.inputSchema as JsonValue };
    });
  }
  const choice = toolChoiceOf(options.toolChoice);
  if (choice !== undefined) request.toolChoice = choice;
  if (options.responseFormat?.type === 'json') {
    request.responseFormat = { type: 'json' };
    if (options.responseFormat.schema !== undefined) request.responseFormat.schema = options.responseFormat.schema as JsonValue;
    if (options.responseFormat.name !== undefined) request.responseFormat.name = options.responseFormat.name;
  }
  if (options.maxOutputTokens !== undefined) request.maxOutputTokens = options.maxOutputTokens;
  if (options.temperature !== undefined) request.temperature = options.temperature;
  if (options.topP !== undefined) request.topP = options.topP;
  if (options.stopSequences !== undefined) request.stopSequences = options.stopSequences;
  if (options.seed !== undefined) request.seed = options.seed;
  if (options.abortSignal !== undefined) request.abortSignal = options.abortSignal;
  const headers = Object.entries(options.headers ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined);
  if (headers.length > 0) request.headers = Object.fromEntries(headers);
  return request;
}

/** Settings of the AI SDK call a Keel model has no field for: reported as warnings by the Keel provider. */
export function settingsKeelIgnores(options: LanguageModelV4CallOptions): string[] {
  const ignored: string[] = [];
  for (const setting of ['topK', 'presencePenalty', 'frequencyPenalty', 'providerOptions'] as const) if (options[setting] !== undefined) ignored.push(setting);
  if (options.reasoning !== undefined && options.reasoning !== 'provider-default') ignored.push('reasoning');
  return ignored;
}

function messageOf(message: LanguageModelV4Message): MessageV1[] {
  switch (message.role) {
    case 'system':
      return [{ role: 'system', content: message.content }];
    case 'user':
      return [
        {
          role: 'user',
          content: message.content.map((part): TextPartV1 => {
            if (part.type !== 'text') throw unsupported(`a ${part.mediaType} file in a user message`);
            return { type: 'text', text: part.text };
          }),
        },
      ];
    case 'assistant': {
      const content: (TextPartV1 | ToolCallPartV1)[] = [];
      for (const part of message.content) {
        if (part.type === 'text') content.push({ type: 'text', text: part.text });
        else if (part.type === 'tool-call') content.push({ type: 'tool-call', toolCallId: part.toolCallId, toolName: part.toolName, input: jsonOf(part.input) });
        else if (part.type === 'file') throw unsupported(`a ${part.mediaType} file in an assistant message`);
        // Reasoning and provider-executed results are the model's own record, not the conversation.
      }
      return content.length === 0 ? [] : [{ role: 'assistant', content }];
    }
    case 'tool': {
      const content: ToolResultPartV1[] = [];
      for (const part of message.content) {
        if (part.type !== 'tool-result') continue;
        content.push({ type: 'tool-result', toolCallId: part.toolCallId, toolName: part.toolName, ...toolOutputOf(part.output) });
      }
      return content.length === 0 ? [] : [{ role: 'tool', content }];
    }
  }
}

function toolOutputOf(output: LanguageModelV4ToolResultOutput): { output: JsonValue; isError?: true } {
  switch (output.type) {
    case 'text':
      return { output: output.value };
    case 'json':
      return { output: jsonOf(output.value) };
    case 'error-text':
      return { output: output.value, isError: true };
    case 'error-json':
      return { output: jsonOf(output.value), isError: true };
    case 'execution-denied':
      return { output: output.reason ?? 'the tool call was denied', isError: true };
    case 'content':
      return { output: output.value.map((part) => (part.type === 'text' ? part.text : `[${part.type}]`)).join('\n') };
  }
}

function toolChoiceOf(choice: LanguageModelV4CallOptions['toolChoice']): ToolChoiceV1 | undefined {
  if (choice === undefined) return undefined;
  return choice.type === 'tool' ? { toolName: choice.toolName } : choice.type;
}

function unsupported(what: string): UnsupportedFunctionalityError {
  return new UnsupportedFunctionalityError({ functionality: `${what} (keel/ai-sdk journals text and tool calls only)` });
}
