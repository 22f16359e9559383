import type { FinishReasonV1, GenerateResultV1, UsageV1 } from '../../spec/index.ts';
import { toolInputObject } from '../tool-arguments.ts';

/** What names one message: its id and the model the client asked for. */
export interface MessageIdentity {
  id: string;
  model: string;
}

export type StopReason = 'end_turn' | 'max_tokens' | 'tool_use' | 'refusal';

export function stopReason(reason: FinishReasonV1): StopReason {
  switch (reason) {
    case 'tool-calls':
      return 'tool_use';
    case 'length':
      return 'max_tokens';
    case 'refusal':
    case 'content-filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

export function messageUsage(usage: UsageV1) {
  return {
    input_tokens: usage.inputTokens - (usage.cachedInputTokens ?? 0),
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: null,
    cache_read_input_tokens: usage.cachedInputTokens ?? null,
  };
}

/** Keel's answer as a Messages `message` object. */
export function messageObject(result: GenerateResultV1, identity: MessageIdentity) {
  const content = result.content.map((part) =>
    part.type === 'text' ? { type: 'text' as const, text: part.text } : { type: 'tool_use' as const, id: part.toolCallId, name: part.toolName, input: toolInputObject(part.input) },
  );
  // A refusal with nothing said is shown as its explanation, which is what the person reads.
  if (content.length === 0 && result.refusal !== undefined) content.push({ type: 'text', text: result.refusal });
  return {
    id: identity.id,
    type: 'message',
    role: 'assistant',
    model: identity.model,
    content,
    stop_reason: stopReason(result.finishReason),
    stop_sequence: null,
    usage: messageUsage(result.usage),
  };
}
