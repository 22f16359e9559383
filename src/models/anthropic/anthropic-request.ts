import type { MessageCreateParamsNonStreaming, Tool, ToolChoice } from '@anthropic-ai/sdk/resources/messages';
import type { GenerateOptionsV1, ToolChoiceV1, ToolDefinitionV1 } from '../../spec/index.ts';
import { toAnthropicConversation } from './anthropic-messages.ts';
import type { ResponseTool } from './anthropic-response-tool.ts';
import { responseToolFor } from './anthropic-response-tool.ts';

/** Anthropic requires `max_tokens` on every call; this is used when the caller gives none. */
export const defaultMaxOutputTokens = 4096;

export interface AnthropicRequest {
  body: MessageCreateParamsNonStreaming;
  /** Set when the call asked for structured output, which travels as a forced tool call. */
  responseTool: ResponseTool | undefined;
}

/**
 * A Keel call as a Messages API body.
 *
 * `temperature` and `topP` are not sent: the SDK speaks API version 2026-10-21, which rejects
 * `temperature`, `top_p` and `top_k` with a 400 on every model, even at their defaults. Like
 * `seed`, which Anthropic never had, they are accepted and left out.
 */
export function toAnthropicRequest(modelId: string, options: GenerateOptionsV1): AnthropicRequest {
  const { system, messages } = toAnthropicConversation(options.messages);
  const body: MessageCreateParamsNonStreaming = {
    model: modelId,
    max_tokens: options.maxOutputTokens ?? defaultMaxOutputTokens,
    messages,
  };
  if (system !== undefined) body.system = system;
  if (options.stopSequences !== undefined && options.stopSequences.length > 0) body.stop_sequences = options.stopSequences;

  const responseTool = responseToolFor(options.responseFormat);
  const callerTools = options.toolChoice === 'none' && responseTool !== undefined ? [] : (options.tools ?? []).map(toAnthropicTool);
  const tools = responseTool === undefined ? callerTools : [...callerTools, responseTool.tool];
  if (tools.length > 0) {
    body.tools = tools;
    body.tool_choice = toolChoiceFor(options.toolChoice, callerTools.length > 0, responseTool);
  }
  return { body, responseTool };
}

function toAnthropicTool(tool: ToolDefinitionV1): Tool {
  return { name: tool.name, description: tool.description, input_schema: tool.inputSchema as unknown as Tool.InputSchema };
}

/**
 * With structured output and no tools of the caller's, the response tool is forced. With tools
 * too, the model must call some tool: one of the caller's to keep working, or the response tool
 * to answer.
 */
function toolChoiceFor(choice: ToolChoiceV1 | undefined, hasCallerTools: boolean, responseTool: ResponseTool | undefined): ToolChoice {
  if (typeof choice === 'object') return { type: 'tool', name: choice.toolName };
  if (responseTool !== undefined) return hasCallerTools ? { type: 'any' } : { type: 'tool', name: responseTool.tool.name };
  if (choice === 'required') return { type: 'any' };
  if (choice === 'none') return { type: 'none' };
  return { type: 'auto' };
}
