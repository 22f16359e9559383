/**
 * LangChain's messages and Keel's, both ways. A LangChain call (its messages, bound tools and tool
 * choice) becomes Keel's request (GenerateOptionsV1), which is what is journaled, reserved for and
 * routed on; Keel's answer (GenerateResultV1) becomes the AIMessage the agent sees, live or
 * replayed alike; an AIMessage a LangChain model answered with becomes Keel's answer for the
 * journal. Keel journals text and tool calls: images and files in a prompt are refused, naming the
 * part, rather than silently dropped.
 */
import type { BaseMessage, MessageContent, StandardMessageStructure, UsageMetadata } from '@langchain/core/messages';
import { AIMessage, AIMessageChunk } from '@langchain/core/messages';
import type { InvalidToolCall, ToolCall } from '@langchain/core/messages/tool';
import { convertToOpenAITool } from '@langchain/core/utils/function_calling';
import { KeelError } from '../errors/index.ts';
import { jsonOf } from '../framework/index.ts';
import { parseToolArguments, toolArgumentsText } from '../models/index.ts';
import type { FinishReasonV1, GenerateOptionsV1, GenerateResultV1, JsonValue, MessageV1, StreamPartV1, TextPartV1, ToolCallPartV1, ToolChoiceV1, ToolDefinitionV1, ToolResultPartV1, UsageV1 } from '../spec/index.ts';

/** A tool choice as LangChain callers spell it (`auto`, `any`, a tool's name, OpenAI's object). */
export type LangChainToolChoice = string | { type: 'function'; function: { name: string } } | undefined;

export interface LangChainCall {
  messages: BaseMessage[];
  tools?: readonly unknown[];
  toolChoice?: LangChainToolChoice;
  maxOutputTokens?: number;
  signal?: AbortSignal;
}

/** What Keel adds to an answer's `response_metadata`, under `keel`. */
export interface KeelCallMetadata {
  /** Integer micro-USD, from Keel's price table; absent when the model was not governed. */
  costMicros?: number;
  priceVersion?: string;
  /** The model that answered (a route may have fallen back). */
  answeredBy: string;
  responseId: string;
  refusal?: string;
}

export function keelRequestOf(call: LangChainCall): GenerateOptionsV1 {
  const request: GenerateOptionsV1 = { messages: keelMessagesOf(call.messages) };
  if (call.tools !== undefined && call.tools.length > 0) request.tools = call.tools.map(toolDefinitionOf);
  const choice = toolChoiceOf(call.toolChoice);
  if (choice !== undefined) request.toolChoice = choice;
  if (call.maxOutputTokens !== undefined) request.maxOutputTokens = call.maxOutputTokens;
  if (call.signal !== undefined) request.abortSignal = call.signal;
  return request;
}

/** Any tool LangChain binds (a StructuredTool, a zod-typed `tool()`, an OpenAI function definition) as Keel's. */
export function toolDefinitionOf(tool: unknown): ToolDefinitionV1 {
  const converted = convertToOpenAITool(tool as Parameters<typeof convertToOpenAITool>[0]);
  return { name: converted.function.name, description: converted.function.description ?? '', inputSchema: jsonOf(converted.function.parameters ?? { type: 'object', properties: {} }) };
}

function toolChoiceOf(choice: LangChainToolChoice): ToolChoiceV1 | undefined {
  if (choice === undefined) return undefined;
  if (typeof choice === 'object') return { toolName: choice.function.name };
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (choice === 'any') return 'required';
  return { toolName: choice };
}

function keelMessagesOf(messages: BaseMessage[]): MessageV1[] {
  const converted: MessageV1[] = [];
  const toolNames = new Map<string, string>();
  for (const message of messages) {
    switch (message.getType()) {
      case 'system':
        converted.push({ role: 'system', content: textOf(message.content, 'a system message') });
        break;
      case 'human':
        converted.push({ role: 'user', content: [{ type: 'text', text: textOf(message.content, 'a user message') }] });
        break;
      case 'ai': {
        const ai = message as AIMessage;
        const content: (TextPartV1 | ToolCallPartV1)[] = [];
        const text = textOf(ai.content, 'an assistant message');
        if (text !== '') content.push({ type: 'text', text });
        for (const call of ai.tool_calls ?? []) {
          const toolCallId = call.id ?? '';
          toolNames.set(toolCallId, call.name);
          content.push({ type: 'tool-call', toolCallId, toolName: call.name, input: jsonOf(call.args) });
        }
        if (content.length > 0) converted.push({ role: 'assistant', content });
        break;
      }
      case 'tool': {
        const tool = message as BaseMessage & { tool_call_id: string; status?: string };
        const part: ToolResultPartV1 = { type: 'tool-result', toolCallId: tool.tool_call_id, toolName: tool.name ?? toolNames.get(tool.tool_call_id) ?? '', output: toolOutputOf(tool.content) };
        if (tool.status === 'error') part.isError = true;
        // Results of one turn's tool calls are one tool message, as Keel's adapters send them.
        const previous = converted.at(-1);
        if (previous?.role === 'tool') previous.content.push(part);
        else converted.push({ role: 'tool', content: [part] });
        break;
      }
      default:
        throw new KeelError('usage-invalid', `keel/langchain journals system, user, assistant and tool messages; a ${message.getType()} message cannot be sent`);
    }
  }
  return converted;
}

function toolOutputOf(content: MessageContent): JsonValue {
  return typeof content === 'string' ? content : textOf(content, 'a tool message');
}

function textOf(content: MessageContent, where: string): string {
  if (typeof content === 'string') return content;
  return content
    .map((block) => {
      if (block.type === 'text' && typeof block.text === 'string') return block.text;
      throw new KeelError('usage-invalid', `keel/langchain journals text and tool calls only; ${where} holds a ${String(block.type)} part`);
    })
    .join('');
}

/** Keel's answer as the AIMessage the agent gets; `response_metadata.keel` carries the cost. */
export function aiMessageOf(result: GenerateResultV1): AIMessage<StandardMessageStructure> {
  const { toolCalls, invalidToolCalls } = toolCallsOf(result.content);
  const fields = {
    content: result.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join(''),
    tool_calls: toolCalls,
    invalid_tool_calls: invalidToolCalls,
    usage_metadata: usageMetadataOf(result.usage),
    response_metadata: { model_provider: 'keel', model_name: result.response.modelId, finish_reason: result.finishReason, keel: keelMetadataOf(result) },
  };
  return new AIMessage<StandardMessageStructure>(result.response.id === '' ? fields : { ...fields, id: result.response.id });
}

function toolCallsOf(content: GenerateResultV1['content']): { toolCalls: ToolCall[]; invalidToolCalls: InvalidToolCall[] } {
  const toolCalls: ToolCall[] = [];
  const invalidToolCalls: InvalidToolCall[] = [];
  for (const part of content) {
    if (part.type !== 'tool-call') continue;
    if (typeof part.input === 'object' && part.input !== null && !Array.isArray(part.input)) toolCalls.push({ type: 'tool_call', id: part.toolCallId, name: part.toolName, args: part.input });
    // LangChain's tool calls take an object; arguments that are not one are the model's mistake, kept as sent.
    else invalidToolCalls.push({ type: 'invalid_tool_call', id: part.toolCallId, name: part.toolName, args: toolArgumentsText(part.input), error: 'the arguments are not a JSON object' });
  }
  return { toolCalls, invalidToolCalls };
}

function keelMetadataOf(result: Pick<GenerateResultV1, 'cost' | 'response' | 'refusal'>): KeelCallMetadata {
  const metadata: KeelCallMetadata = { answeredBy: result.response.modelId, responseId: result.response.id };
  if (result.cost !== undefined) {
    metadata.costMicros = result.cost.micros;
    metadata.priceVersion = result.cost.priceVersion;
  }
  if (result.refusal !== undefined) metadata.refusal = result.refusal;
  return metadata;
}

function usageMetadataOf(usage: UsageV1): UsageMetadata {
  const metadata: UsageMetadata = { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens, total_tokens: usage.inputTokens + usage.outputTokens };
  if (usage.cachedInputTokens !== undefined) metadata.input_token_details = { cache_read: usage.cachedInputTokens };
  return metadata;
}

/** An AIMessage a LangChain model answered with, in Keel's terms; `modelId` names the model when the provider did not. */
export function keelResultOf(message: AIMessage, modelId: string): GenerateResultV1 {
  const content: (TextPartV1 | ToolCallPartV1)[] = [];
  const text = typeof message.content === 'string' ? message.content : message.content.flatMap((block) => (block.type === 'text' && typeof block.text === 'string' ? [block.text] : [])).join('');
  if (text !== '') content.push({ type: 'text', text });
  for (const call of message.tool_calls ?? []) content.push({ type: 'tool-call', toolCallId: call.id ?? '', toolName: call.name, input: jsonOf(call.args) });
  for (const call of message.invalid_tool_calls ?? []) content.push({ type: 'tool-call', toolCallId: call.id ?? '', toolName: call.name ?? '', input: parseToolArguments(call.args ?? '') });
  const metadata = message.response_metadata as { model_name?: unknown; model?: unknown; finish_reason?: unknown; stop_reason?: unknown };
  // LangChain's default message structure types usage as never; the standard one says what providers set.
  const usage = (message as AIMessage<StandardMessageStructure>).usage_metadata;
  const keelUsage: UsageV1 = { inputTokens: usage?.input_tokens ?? 0, outputTokens: usage?.output_tokens ?? 0 };
  const cached = usage?.input_token_details?.cache_read;
  if (cached !== undefined) keelUsage.cachedInputTokens = cached;
  const named = typeof metadata.model_name === 'string' ? metadata.model_name : typeof metadata.model === 'string' ? metadata.model : modelId;
  return {
    content,
    finishReason: finishReasonOf(metadata.finish_reason ?? metadata.stop_reason, content),
    usage: keelUsage,
    response: { id: message.id ?? '', modelId: named },
  };
}

/** Providers spell finish reasons their own way (OpenAI `tool_calls`, Anthropic `tool_use`, `end_turn`, `max_tokens`). */
function finishReasonOf(raw: unknown, content: GenerateResultV1['content']): FinishReasonV1 {
  switch (raw) {
    case 'stop':
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'length':
    case 'max_tokens':
      return 'length';
    case 'tool_calls':
    case 'tool-calls':
    case 'tool_use':
    case 'function_call':
      return 'tool-calls';
    case 'content_filter':
    case 'content-filter':
      return 'content-filter';
    case 'refusal':
      return 'refusal';
    default:
      return content.some((part) => part.type === 'tool-call') ? 'tool-calls' : 'stop';
  }
}

/** Turns Keel's stream parts into LangChain's message chunks; tool calls arrive whole, one chunk each. */
export class ChunkWriter {
  #toolCalls = 0;
  #response: GenerateResultV1['response'] = { id: '', modelId: '' };

  write(part: StreamPartV1): AIMessageChunk<StandardMessageStructure> | undefined {
    switch (part.type) {
      case 'response-start':
        this.#response = part.response;
        return undefined;
      case 'text-delta':
        return new AIMessageChunk({ content: part.delta });
      case 'tool-call-delta':
        // Reassembled by Keel into the `tool-call` part that follows.
        return undefined;
      case 'tool-call': {
        const index = this.#toolCalls;
        this.#toolCalls += 1;
        return new AIMessageChunk({ content: '', tool_call_chunks: [{ type: 'tool_call_chunk', id: part.toolCallId, name: part.toolName, args: toolArgumentsText(part.input), index }] });
      }
      case 'finish': {
        const metadata = keelMetadataOf({ response: this.#response, ...(part.refusal === undefined ? {} : { refusal: part.refusal }) });
        return new AIMessageChunk<StandardMessageStructure>({
          content: '',
          usage_metadata: usageMetadataOf(part.usage),
          response_metadata: { model_provider: 'keel', model_name: this.#response.modelId, finish_reason: part.finishReason, keel: metadata },
          ...(this.#response.id === '' ? {} : { id: this.#response.id }),
        });
      }
    }
  }
}
