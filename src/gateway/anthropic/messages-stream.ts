import type { StreamPartV1 } from '../../spec/index.ts';
import type { GatewayFailure } from '../gateway-failure.ts';
import { toolArgumentsText } from '../../models/index.ts';
import { anthropicError } from './anthropic-error.ts';
import type { MessageIdentity } from './messages-response.ts';
import { messageUsage, stopReason } from './messages-response.ts';

type OpenBlock = { kind: 'text' } | { kind: 'tool'; id: string };

/**
 * Keel's stream parts as Messages server-sent events: `message_start`, a `content_block_start`,
 * deltas and `content_block_stop` per text or tool_use block, then `message_delta` with the stop
 * reason and the usage, and `message_stop`. The usage is known only when the upstream finishes, so
 * `message_start` reports zero tokens and `message_delta` the final counts, input tokens included.
 */
export class MessageEventEncoder {
  readonly #identity: MessageIdentity;
  #started = false;
  #open: OpenBlock | undefined;
  #blocks = 0;
  /** Tool calls whose block was opened by a delta: their closing `tool-call` part adds nothing. */
  readonly #streamedTools = new Set<string>();

  constructor(identity: MessageIdentity) {
    this.#identity = identity;
  }

  part(part: StreamPartV1): string {
    switch (part.type) {
      case 'response-start':
        return this.#start();
      case 'text-delta': {
        const opening = this.#open?.kind === 'text' ? '' : this.#openBlock({ kind: 'text' }, { type: 'text', text: '' });
        return this.#start() + opening + this.#delta({ type: 'text_delta', text: part.delta });
      }
      case 'tool-call-delta': {
        const open = this.#open;
        const same = open?.kind === 'tool' && open.id === part.toolCallId;
        const opening = same ? '' : this.#openBlock({ kind: 'tool', id: part.toolCallId }, { type: 'tool_use', id: part.toolCallId, name: part.toolName, input: {} });
        this.#streamedTools.add(part.toolCallId);
        return this.#start() + opening + this.#delta({ type: 'input_json_delta', partial_json: part.inputDelta });
      }
      case 'tool-call': {
        if (this.#streamedTools.has(part.toolCallId)) {
          const open = this.#open;
          return open?.kind === 'tool' && open.id === part.toolCallId ? this.#closeBlock() : '';
        }
        const opening = this.#openBlock({ kind: 'tool', id: part.toolCallId }, { type: 'tool_use', id: part.toolCallId, name: part.toolName, input: {} });
        return this.#start() + opening + this.#delta({ type: 'input_json_delta', partial_json: toolArgumentsText(part.input) }) + this.#closeBlock();
      }
      case 'finish': {
        let events = this.#start();
        if (part.refusal !== undefined && this.#blocks === 0) events += this.#openBlock({ kind: 'text' }, { type: 'text', text: '' }) + this.#delta({ type: 'text_delta', text: part.refusal });
        events += this.#closeBlock();
        events += event('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason(part.finishReason), stop_sequence: null }, usage: messageUsage(part.usage) });
        return events + event('message_stop', { type: 'message_stop' });
      }
    }
  }

  /** A failure after the stream began: the official client raises it as an APIError. */
  error(failure: GatewayFailure, requestId: string): string {
    return event('error', anthropicError(failure, requestId).body);
  }

  #start(): string {
    if (this.#started) return '';
    this.#started = true;
    const message = { id: this.#identity.id, type: 'message', role: 'assistant', model: this.#identity.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } };
    return event('message_start', { type: 'message_start', message });
  }

  #openBlock(block: OpenBlock, contentBlock: Record<string, unknown>): string {
    const closing = this.#closeBlock();
    this.#open = block;
    this.#blocks += 1;
    return closing + event('content_block_start', { type: 'content_block_start', index: this.#blocks - 1, content_block: contentBlock });
  }

  #delta(delta: Record<string, unknown>): string {
    return event('content_block_delta', { type: 'content_block_delta', index: this.#blocks - 1, delta });
  }

  #closeBlock(): string {
    if (this.#open === undefined) return '';
    this.#open = undefined;
    return event('content_block_stop', { type: 'content_block_stop', index: this.#blocks - 1 });
  }
}

function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
