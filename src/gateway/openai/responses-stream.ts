import type { StreamPartV1, UsageV1 } from '../../spec/index.ts';
import type { GatewayFailure } from '../gateway-failure.ts';
import { toolArgumentsText } from '../../models/index.ts';
import type { ResponseEcho } from './responses-request.ts';
import type { OutputItem, ResponseIdentity } from './responses-response.ts';
import { functionCallItemId, messageItemId, responseObject, responseStatus } from './responses-response.ts';
import { openAIError } from './openai-error.ts';

type MessageItem = Extract<OutputItem, { type: 'message' }>;
type FunctionCallItem = Extract<OutputItem, { type: 'function_call' }>;
type OutputText = Extract<MessageItem['content'][number], { type: 'output_text' }>;
/** A message item still open, and its text part once text has arrived. */
interface OpenMessage {
  item: MessageItem;
  index: number;
  text: { part: OutputText; contentIndex: number } | undefined;
}

/**
 * Keel's stream parts as Responses server-sent events (`event: <type>` with a numbered JSON
 * body): `response.created` and `response.in_progress` first; text as a message item whose
 * `output_text` grows by deltas; each tool call as a function_call item whose arguments grow by
 * deltas; every item closed by its `.done` events; and, once the run has ended,
 * `response.completed` (or `incomplete`) with the whole response and its usage, or
 * `response.failed` with the error.
 */
export class ResponseEventEncoder {
  readonly #identity: ResponseIdentity;
  readonly #echo: ResponseEcho;
  readonly #output: OutputItem[] = [];
  #sequence = 0;
  #created = false;
  /** The message item text is being added to, and its index in the output. */
  #message: OpenMessage | undefined;
  /** Function calls whose arguments are still arriving, by Keel's call id. */
  readonly #calls = new Map<string, { item: FunctionCallItem; index: number }>();
  #finish: { usage: UsageV1; status: 'completed' | 'incomplete'; incompleteDetails: { reason: string } | null } | undefined;

  constructor(identity: ResponseIdentity, echo: ResponseEcho) {
    this.#identity = identity;
    this.#echo = echo;
  }

  /** The events for one part; empty for a part that adds nothing the client has not seen. */
  part(part: StreamPartV1): string {
    let events = this.#start();
    switch (part.type) {
      case 'response-start':
        break;
      case 'text-delta': {
        if (part.delta === '') break;
        const opened = this.#openMessage();
        const textPart = this.#textPart(opened.message);
        events += opened.events + textPart.events;
        textPart.text.part.text += part.delta;
        const place = { item_id: opened.message.item.id, output_index: opened.message.index, content_index: textPart.text.contentIndex };
        events += this.#event('response.output_text.delta', { ...place, delta: part.delta, logprobs: [] });
        break;
      }
      case 'tool-call-delta': {
        events += this.#closeMessage();
        let call = this.#calls.get(part.toolCallId);
        if (call === undefined) {
          const opened = this.#openCall(part.toolCallId, part.toolName);
          events += opened.events;
          call = opened.call;
        }
        call.item.arguments += part.inputDelta;
        events += this.#event('response.function_call_arguments.delta', { item_id: call.item.id, output_index: call.index, delta: part.inputDelta });
        break;
      }
      case 'tool-call': {
        events += this.#closeMessage();
        let call = this.#calls.get(part.toolCallId);
        // A provider that sends whole calls only: the call opens and its arguments arrive at once.
        if (call === undefined) {
          const opened = this.#openCall(part.toolCallId, part.toolName);
          events += opened.events;
          call = opened.call;
          call.item.arguments = toolArgumentsText(part.input);
          events += this.#event('response.function_call_arguments.delta', { item_id: call.item.id, output_index: call.index, delta: call.item.arguments });
        }
        events += this.#closeCall(part.toolCallId);
        break;
      }
      case 'finish': {
        if (part.refusal !== undefined) events += this.#refusal(part.refusal);
        events += this.#closeMessage();
        for (const id of [...this.#calls.keys()]) events += this.#closeCall(id);
        this.#finish = { usage: part.usage, ...responseStatus(part.finishReason) };
        break;
      }
    }
    return events;
  }

  /** The end of a stream whose run ended as it should: the whole response, with its usage. */
  end(): string {
    const finish = this.#finish;
    let events = this.#start();
    if (finish === undefined) return events;
    const response = responseObject(this.#identity, this.#echo, { status: finish.status, output: this.#output, usage: finish.usage, incompleteDetails: finish.incompleteDetails });
    events += this.#event(finish.status === 'completed' ? 'response.completed' : 'response.incomplete', { response });
    return events;
  }

  /** A failure after the stream began: the response ends `failed`, carrying the error as OpenAI's does. */
  error(failure: GatewayFailure): string {
    const { error } = openAIError(failure).body;
    const response = responseObject(this.#identity, this.#echo, { status: 'failed', output: this.#output, error: { code: error.code ?? error.type, message: error.message } });
    return this.#start() + this.#event('response.failed', { response });
  }

  #start(): string {
    if (this.#created) return '';
    this.#created = true;
    const response = responseObject(this.#identity, this.#echo, { status: 'in_progress', output: [] });
    return this.#event('response.created', { response }) + this.#event('response.in_progress', { response });
  }

  #openMessage(): { events: string; message: OpenMessage } {
    if (this.#message !== undefined) return { events: '', message: this.#message };
    const index = this.#output.length;
    const item: MessageItem = { id: messageItemId(this.#identity, index), type: 'message', status: 'in_progress', role: 'assistant', content: [] };
    this.#output.push(item);
    const message: OpenMessage = { item, index, text: undefined };
    this.#message = message;
    return { events: this.#event('response.output_item.added', { output_index: index, item }), message };
  }

  /** The message's output_text part, opened by the first text that arrives. */
  #textPart(message: OpenMessage): { events: string; text: { part: OutputText; contentIndex: number } } {
    if (message.text !== undefined) return { events: '', text: message.text };
    const part: OutputText = { type: 'output_text', text: '', annotations: [], logprobs: [] };
    const contentIndex = message.item.content.length;
    const events = this.#event('response.content_part.added', { item_id: message.item.id, output_index: message.index, content_index: contentIndex, part });
    message.item.content.push(part);
    message.text = { part, contentIndex };
    return { events, text: message.text };
  }

  #closeMessage(): string {
    const message = this.#message;
    if (message === undefined) return '';
    this.#message = undefined;
    const { item, index, text } = message;
    item.status = 'completed';
    let events = '';
    if (text !== undefined) {
      const place = { item_id: item.id, output_index: index, content_index: text.contentIndex };
      events += this.#event('response.output_text.done', { ...place, text: text.part.text, logprobs: [] }) + this.#event('response.content_part.done', { ...place, part: text.part });
    }
    return events + this.#event('response.output_item.done', { output_index: index, item });
  }

  /** A refusal arrives whole, with the finish: it is the message's last content part. */
  #refusal(refusal: string): string {
    const opened = this.#openMessage();
    const { item, index } = opened.message;
    const place = { item_id: item.id, output_index: index, content_index: item.content.length };
    const part = { type: 'refusal' as const, refusal };
    const events =
      opened.events +
      this.#event('response.content_part.added', { ...place, part: { type: 'refusal', refusal: '' } }) +
      this.#event('response.refusal.delta', { ...place, delta: refusal }) +
      this.#event('response.refusal.done', { ...place, refusal }) +
      this.#event('response.content_part.done', { ...place, part });
    item.content.push(part);
    return events;
  }

  #openCall(callId: string, name: string): { events: string; call: { item: FunctionCallItem; index: number } } {
    const index = this.#output.length;
    const item: FunctionCallItem = { id: functionCallItemId(this.#identity, index), type: 'function_call', status: 'in_progress', call_id: callId, name, arguments: '' };
    this.#output.push(item);
    const call = { item, index };
    this.#calls.set(callId, call);
    return { events: this.#event('response.output_item.added', { output_index: index, item: { ...item } }), call };
  }

  #closeCall(callId: string): string {
    const call = this.#calls.get(callId);
    if (call === undefined) return '';
    this.#calls.delete(callId);
    const { item, index } = call;
    item.status = 'completed';
    return (
      this.#event('response.function_call_arguments.done', { item_id: item.id, output_index: index, name: item.name, arguments: item.arguments }) +
      this.#event('response.output_item.done', { output_index: index, item })
    );
  }

  #event(type: string, data: Record<string, unknown>): string {
    const body = { type, ...data, sequence_number: this.#sequence };
    this.#sequence += 1;
    return `event: ${type}\ndata: ${JSON.stringify(body)}\n\n`;
  }
}
