import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { StreamPartV1 } from '../../spec/index.ts';
import type { OpenAICall } from './openai-call.ts';
import { abortedError, providerReportedError, streamTruncatedError, toModelCallError } from './openai-errors.ts';
import { failedResponseError, outputParts, responsesFinishReason, responsesUsage } from './openai-responses-result.ts';
import { responseInfo } from './response-info.ts';
import { parseToolArguments } from './tool-payload-text.ts';

interface PendingToolCall {
  callId: string;
  name: string;
}

/**
 * Responses semantic events → StreamPartV1. Unlike chat, the Responses API says when each tool
 * call is complete (`response.output_item.done`), so whole `tool-call` parts are yielded there.
 * Only `response.completed` / `response.incomplete` end a stream cleanly.
 */
export async function* responsesStreamParts(events: AsyncIterable<ResponseStreamEvent>, requestId: string | null, call: OpenAICall): AsyncGenerator<StreamPartV1> {
  const streamCall: OpenAICall = { ...call, requestId: requestId ?? undefined };
  let started = false;
  let final: Response | undefined;
  // Argument deltas name their call only by output position.
  const toolCalls = new Map<number, PendingToolCall>();
  try {
    for await (const event of events) {
      if (!started) {
        started = true;
        const response = 'response' in event ? event.response : undefined;
        yield { type: 'response-start', response: responseInfo(response?.id ?? '', response?.model ?? call.modelId, requestId) };
      }
      switch (event.type) {
        case 'response.output_text.delta':
          if (event.delta !== '') yield { type: 'text-delta', delta: event.delta };
          break;
        case 'response.output_item.added':
          if (event.item.type === 'function_call') {
            const pending = { callId: event.item.call_id, name: event.item.name };
            toolCalls.set(event.output_index, pending);
            yield { type: 'tool-call-delta', toolCallId: pending.callId, toolName: pending.name, inputDelta: event.item.arguments };
          }
          break;
        case 'response.function_call_arguments.delta': {
          const pending = toolCalls.get(event.output_index);
          if (pending !== undefined && event.delta !== '') yield { type: 'tool-call-delta', toolCallId: pending.callId, toolName: pending.name, inputDelta: event.delta };
          break;
        }
        case 'response.output_item.done':
          // The done item carries the full arguments: authoritative over the deltas.
          if (event.item.type === 'function_call') {
            yield { type: 'tool-call', toolCallId: event.item.call_id, toolName: event.item.name, input: parseToolArguments(event.item.arguments) };
          }
          break;
        case 'response.completed':
        case 'response.incomplete':
          final = event.response;
          break;
        case 'response.failed':
          throw failedResponseError(event.response, streamCall);
        case 'error':
          throw providerReportedError(streamCall, event.code, event.message);
        default:
          break;
      }
    }
  } catch (error) {
    throw toModelCallError(error, streamCall, 'stream');
  }
  // The SDK ends a stream quietly when the caller aborts; that is not a clean finish.
  if (call.abortSignal?.aborted === true) throw abortedError(streamCall);
  if (final === undefined) throw streamTruncatedError(streamCall, started ? 'no response.completed event' : 'no events');
  const { content, refusal } = outputParts(final.output);
  yield {
    type: 'finish',
    finishReason: responsesFinishReason(final, content, refusal),
    usage: responsesUsage(final.usage),
    ...(refusal === undefined ? {} : { refusal }),
  };
}
