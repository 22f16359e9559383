import type { RawMessageStreamEvent, RefusalStopDetails, StopReason } from '@anthropic-ai/sdk/resources/messages';
import type { JsonValue, StreamPartV1 } from '../../spec/index.ts';
import { ModelCallError } from '../model-call-error.ts';
import type { AnthropicCallContext } from './anthropic-errors.ts';
import { abortedCallError, baseDetails, toModelCallError } from './anthropic-errors.ts';
import { toFinishReason } from './anthropic-finish-reason.ts';
import { refusalExplanation } from './anthropic-refusal.ts';
import { responseInfo } from './anthropic-response.ts';
import type { ResponseTool } from './anthropic-response-tool.ts';
import { responseText } from './anthropic-response-tool.ts';
import type { AnthropicTokenCounts } from './anthropic-usage.ts';
import { toUsage } from './anthropic-usage.ts';

export interface StreamContext extends AnthropicCallContext {
  responseTool: ResponseTool | undefined;
  abortSignal: AbortSignal | undefined;
}

/** A content block between its `content_block_start` and `content_block_stop`. */
type OpenBlock =
  | { kind: 'text' }
  | { kind: 'tool'; id: string; name: string; json: string; startInput: JsonValue }
  | { kind: 'response'; json: string; emitted: boolean; startInput: JsonValue }
  | { kind: 'ignored' };

/**
 * Anthropic's stream events as Keel's stream parts. Tool input arrives as `input_json_delta`
 * fragments; each is passed on as a `tool-call-delta`, and the whole is parsed into one
 * `tool-call` when its block stops. Only `message_stop` ends the stream properly: an `error`
 * event, a broken connection or a body that simply ends before it are all failures.
 */
export async function* toStreamParts(events: AsyncIterable<RawMessageStreamEvent>, context: StreamContext): AsyncGenerator<StreamPartV1> {
  const blocks = new Map<number, OpenBlock>();
  const counts: AnthropicTokenCounts = { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: null, cache_creation_input_tokens: null };
  let stopReason: StopReason | null = null;
  let stopDetails: RefusalStopDetails | null = null;
  let calledCallerTools = false;
  let text = '';

  for await (const event of classifiedFailures(events, context)) {
    switch (event.type) {
      case 'message_start':
        Object.assign(counts, pickCounts(event.message.usage));
        yield { type: 'response-start', response: responseInfo(event.message.id, event.message.model, context.requestId) };
        break;
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'text') {
          blocks.set(event.index, { kind: 'text' });
          if (block.text !== '') {
            text += block.text;
            yield { type: 'text-delta', delta: block.text };
          }
        } else if (block.type === 'tool_use' && context.responseTool !== undefined && block.name === context.responseTool.tool.name) {
          blocks.set(event.index, { kind: 'response', json: '', emitted: false, startInput: block.input as JsonValue });
        } else if (block.type === 'tool_use') {
          calledCallerTools = true;
          blocks.set(event.index, { kind: 'tool', id: block.id, name: block.name, json: '', startInput: block.input as JsonValue });
        } else {
          blocks.set(event.index, { kind: 'ignored' });
        }
        break;
      }
      case 'content_block_delta': {
        const block = blocks.get(event.index);
        const delta = event.delta;
        if (block?.kind === 'text' && delta.type === 'text_delta' && delta.text !== '') {
          text += delta.text;
          yield { type: 'text-delta', delta: delta.text };
        } else if (block?.kind === 'tool' && delta.type === 'input_json_delta' && delta.partial_json !== '') {
          block.json += delta.partial_json;
          yield { type: 'tool-call-delta', toolCallId: block.id, toolName: block.name, inputDelta: delta.partial_json };
        } else if (block?.kind === 'response' && delta.type === 'input_json_delta' && delta.partial_json !== '') {
          block.json += delta.partial_json;
          // A wrapped answer ({"value": …}) can only be unwrapped once complete.
          if (context.responseTool?.wrapped === false) {
            block.emitted = true;
            yield { type: 'text-delta', delta: delta.partial_json };
          }
        }
        break;
      }
      case 'content_block_stop': {
        const block = blocks.get(event.index);
        blocks.delete(event.index);
        if (block?.kind === 'tool') {
          yield { type: 'tool-call', toolCallId: block.id, toolName: block.name, input: parseToolInput(block.json) };
        } else if (block?.kind === 'response' && !block.emitted && context.responseTool !== undefined) {
          yield { type: 'text-delta', delta: responseText(context.responseTool, parseToolInput(block.json)) };
        }
        break;
      }
      case 'message_delta':
        stopReason = event.delta.stop_reason ?? stopReason;
        stopDetails = event.delta.stop_details ?? stopDetails;
        Object.assign(counts, pickCounts(event.usage));
        break;
      case 'message_stop': {
        const finish: StreamPartV1 = { type: 'finish', finishReason: toFinishReason(stopReason, calledCallerTools), usage: toUsage(counts) };
        if (stopReason === 'refusal') finish.refusal = refusalExplanation(stopDetails, text);
        yield finish;
        return;
      }
      default:
        // `ping`s are dropped by the SDK; event types newer than this adapter are skipped.
        break;
    }
  }
  if (context.abortSignal?.aborted === true) throw abortedCallError(context, context.abortSignal.reason);
  throw new ModelCallError('model-stream-truncated', `${context.provider} ${context.modelId}: the stream ended before message_stop`, baseDetails(context));
}

/**
 * The SDK's stream, with whatever it throws turned into a ModelCallError. An `error` event comes
 * out as an APIError carrying the event's type; anything else thrown mid-body (the connection
 * reset, say) means the stream was cut short.
 */
async function* classifiedFailures(events: AsyncIterable<RawMessageStreamEvent>, context: StreamContext): AsyncGenerator<RawMessageStreamEvent> {
  try {
    yield* events;
  } catch (error) {
    if (context.abortSignal?.aborted === true) throw abortedCallError(context, context.abortSignal.reason);
    throw toModelCallError(error, context, 'model-stream-truncated');
  }
}

/** Only the fields that were reported: the counts on stream events are running totals, and null means "unchanged". */
function pickCounts(usage: Partial<Record<keyof AnthropicTokenCounts, number | null>>): Partial<AnthropicTokenCounts> {
  const picked: Partial<AnthropicTokenCounts> = {};
  if (typeof usage.input_tokens === 'number') picked.input_tokens = usage.input_tokens;
  if (typeof usage.output_tokens === 'number') picked.output_tokens = usage.output_tokens;
  if (typeof usage.cache_read_input_tokens === 'number') picked.cache_read_input_tokens = usage.cache_read_input_tokens;
  if (typeof usage.cache_creation_input_tokens === 'number') picked.cache_creation_input_tokens = usage.cache_creation_input_tokens;
  return picked;
}

/** Tool input as sent: parsed JSON, `{}` for a tool with no arguments, or the raw text when it is not JSON. */
function parseToolInput(json: string): JsonValue {
  if (json.trim() === '') return {};
  try {
    return JSON.parse(json) as JsonValue;
  } catch {
    return json;
  }
}
