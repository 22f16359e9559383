import type { FinishReasonV1, GenerateResultV1, UsageV1 } from '../../spec/index.ts';
import { toolArgumentsText } from '../../models/index.ts';

/** What names one completion: its id, the model the client asked for, its creation second. */
export interface CompletionIdentity {
  id: string;
  model: string;
  created: number;
}

export type ChatFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export function chatFinishReason(reason: FinishReasonV1): ChatFinishReason {
  switch (reason) {
    case 'tool-calls':
      return 'tool_calls';
    case 'length':
      return 'length';
    case 'content-filter':
      return 'content_filter';
    // A refusal ends the turn like any answer; its explanation travels in `message.refusal`.
    default:
      return 'stop';
  }
}

export function chatUsage(usage: UsageV1) {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    ...(usage.cachedInputTokens === undefined ? {} : { prompt_tokens_details: { cached_tokens: usage.cachedInputTokens } }),
  };
}

/** Keel's answer as a `chat.completion` object. */
export function chatCompletion(result: GenerateResultV1, identity: CompletionIdentity) {
  const text = result.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
  const toolCalls = result.content.flatMap((part) =>
    part.type === 'tool-call' ? [{ id: part.toolCallId, type: 'function' as const, function: { name: part.toolName, arguments: toolArgumentsText(part.input) } }] : [],
  );
  return {
    id: identity.id,
    object: 'chat.completion',
    created: identity.created,
    model: identity.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text === '' && (toolCalls.length > 0 || result.refusal !== undefined) ? null : text,
          refusal: result.refusal ?? null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: chatFinishReason(result.finishReason),
        logprobs: null,
      },
    ],
    usage: chatUsage(result.usage),
  };
}
