import type { StreamPartV1 } from '../../spec/index.ts';
import type { GatewayFailure } from '../gateway-failure.ts';
import { toolArgumentsText } from '../../models/index.ts';
import type { CompletionIdentity } from './chat-response.ts';
import { chatFinishReason, chatUsage } from './chat-response.ts';
import { openAIError } from './openai-error.ts';

/**
 * Keel's stream parts as `chat.completion.chunk` server-sent events, one event per part: the
 * role first, then text and tool-call argument deltas, the finish reason, the usage chunk when
 * the client asked for it (`stream_options.include_usage`), and `[DONE]` once the run has ended.
 */
export class ChatChunkEncoder {
  readonly #identity: CompletionIdentity;
  readonly #includeUsage: boolean;
  #roleSent = false;
  /** Tool calls by id, numbered in the order they began, as `delta.tool_calls[].index`. */
  readonly #toolIndexes = new Map<string, number>();

  constructor(identity: CompletionIdentity, includeUsage: boolean) {
    this.#identity = identity;
    this.#includeUsage = includeUsage;
  }

  /** The events for one part; empty for a part that adds nothing the client has not seen. */
  part(part: StreamPartV1): string {
    switch (part.type) {
      case 'response-start':
        return this.#role();
      case 'text-delta':
        return this.#role() + this.#chunk({ content: part.delta });
      case 'tool-call-delta': {
        const known = this.#toolIndexes.get(part.toolCallId);
        if (known !== undefined) return this.#chunk({ tool_calls: [{ index: known, function: { arguments: part.inputDelta } }] });
        const index = this.#toolIndexes.size;
        this.#toolIndexes.set(part.toolCallId, index);
        return this.#role() + this.#chunk({ tool_calls: [{ index, id: part.toolCallId, type: 'function', function: { name: part.toolName, arguments: part.inputDelta } }] });
      }
      case 'tool-call': {
        // Its arguments already went out as deltas; a provider that sends whole calls only gets them here.
        if (this.#toolIndexes.has(part.toolCallId)) return '';
        const index = this.#toolIndexes.size;
        this.#toolIndexes.set(part.toolCallId, index);
        return this.#role() + this.#chunk({ tool_calls: [{ index, id: part.toolCallId, type: 'function', function: { name: part.toolName, arguments: toolArgumentsText(part.input) } }] });
      }
      case 'finish': {
        let events = this.#role();
        if (part.refusal !== undefined) events += this.#chunk({ refusal: part.refusal });
        events += this.#chunk({}, chatFinishReason(part.finishReason));
        if (this.#includeUsage) events += event({ ...this.#envelope(), choices: [], usage: chatUsage(part.usage) });
        return events;
      }
    }
  }

  /** The end of a stream whose run ended as it should. */
  end(): string {
    return 'data: [DONE]\n\n';
  }

  /** A failure after the stream began: the official client raises it as an APIError. */
  error(failure: GatewayFailure): string {
    return event(openAIError(failure).body);
  }

  #role(): string {
    if (this.#roleSent) return '';
    this.#roleSent = true;
    return this.#chunk({ role: 'assistant', content: '' });
  }

  #chunk(delta: Record<string, unknown>, finishReason: string | null = null): string {
    return event({ ...this.#envelope(), choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] });
  }

  #envelope() {
    return { id: this.#identity.id, object: 'chat.completion.chunk', created: this.#identity.created, model: this.#identity.model };
  }
}

function event(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}
