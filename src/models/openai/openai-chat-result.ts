import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { FinishReasonV1, GenerateResultV1, TextPartV1, ToolCallPartV1, UsageV1 } from '../../spec/index.ts';
import { ModelCallError } from '../model-call-error.ts';
import type { OpenAICall } from './openai-call.ts';
import { describeCall } from './openai-call.ts';
import { responseInfo } from './response-info.ts';
import { parseToolArguments } from './tool-payload-text.ts';

/** A chat.completion object → GenerateResultV1. Keel asks for one choice, so only the first counts. */
export function chatResult(completion: ChatCompletion, requestId: string | null, call: OpenAICall): GenerateResultV1 {
  const choice = completion.choices[0];
  if (choice === undefined) {
    throw new ModelCallError('model-output-malformed', `${describeCall(call)}: response ${completion.id} has no choices`, {
      provider: call.provider,
      modelId: call.modelId,
      ...(requestId === null ? {} : { requestId }),
    });
  }
  const content: (TextPartV1 | ToolCallPartV1)[] = [];
  const { message } = choice;
  if (typeof message.content === 'string' && message.content !== '') content.push({ type: 'text', text: message.content });
  for (const toolCall of message.tool_calls ?? []) {
    // Keel only declares function tools, so custom-tool calls cannot be asked for.
    if (toolCall.type !== 'function') continue;
    content.push({ type: 'tool-call', toolCallId: toolCall.id, toolName: toolCall.function.name, input: parseToolArguments(toolCall.function.arguments) });
  }
  const refusal = typeof message.refusal === 'string' && message.refusal !== '' ? message.refusal : undefined;
  const result: GenerateResultV1 = {
    content,
    finishReason: chatFinishReason(choice.finish_reason, refusal !== undefined),
    usage: chatUsage(completion.usage),
    response: responseInfo(completion.id, completion.model, requestId, completion.system_fingerprint),
  };
  if (refusal !== undefined) result.refusal = refusal;
  return result;
}

export function chatFinishReason(reason: string | null | undefined, refused: boolean): FinishReasonV1 {
  // A refusal arrives with finish_reason "stop"; the refusal field is what tells it apart.
  if (refused) return 'refusal';
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'tool_calls':
    case 'function_call':
      return 'tool-calls';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content-filter';
    default:
      return 'other';
  }
}

/** OpenAI-compatible servers may omit usage; zero is the honest "not reported". */
export function chatUsage(usage: CompletionUsage | null | undefined): UsageV1 {
  const result: UsageV1 = { inputTokens: usage?.prompt_tokens ?? 0, outputTokens: usage?.completion_tokens ?? 0 };
  const cached = usage?.prompt_tokens_details?.cached_tokens;
  if (typeof cached === 'number') result.cachedInputTokens = cached;
  return result;
}
