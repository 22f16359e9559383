import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { StreamPartV1 } from '../../spec/index.ts';
import type { OpenAICall } from './openai-call.ts';
import { chatFinishReason, chatUsage } from './openai-chat-result.ts';
import { abortedError, streamTruncatedError, toModelCallError } from './openai-errors.ts';
import { responseInfo } from './response-info.ts';
import { parseToolArguments } from './tool-payload-text.ts';

interface PendingToolCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * chat.completion.chunk objects → StreamPartV1. Tool calls arrive by `index`: the first chunk
 * of a call names it (id, name), later ones carry argument pieces; they are only complete when
 * the choice finishes, so whole `tool-call` parts are yielded at the end, before `finish`.
 * With `include_usage`, usage comes in a last chunk with no choices, after finish_reason.
 */
export async function* chatStreamParts(chunks: AsyncIterable<ChatCompletionChunk>, requestId: string | null, call: OpenAICall): AsyncGenerator<StreamPartV1> {
  const streamCall: OpenAICall = { ...call, requestId: requestId ?? undefined };
  let started = false;
  let finishReason: string | null = null;
  let usage: CompletionUsage | undefined;
  let refusal = '';
  const toolCalls = new Map<number, PendingToolCall>();
  try {
    for await (const chunk of chunks) {
      if (!started) {
        started = true;
        yield { type: 'response-start', response: responseInfo(chunk.id, chunk.model, requestId, chunk.system_fingerprint) };
      }
      if (chunk.usage !== undefined && chunk.usage !== null) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (choice === undefined) continue;
      const { delta } = choice;
      if (typeof delta.content === 'string' && delta.content !== '') yield { type: 'text-delta', delta: delta.content };
      if (typeof delta.refusal === 'string') refusal += delta.refusal;
      for (const piece of delta.tool_calls ?? []) {
        // Some compatible servers omit the index when a call arrives whole; then it is the next one.
        const index = typeof piece.index === 'number' ? piece.index : toolCalls.size;
        let pending = toolCalls.get(index);
        const isNew = pending === undefined;
        if (pending === undefined) {
          pending = { id: piece.id ?? `call_${index}`, name: piece.function?.name ?? '', arguments: '' };
          toolCalls.set(index, pending);
        } else if (pending.name === '' && piece.function?.name !== undefined) {
          pending.name = piece.function.name;
        }
        const argumentsPiece = piece.function?.arguments ?? '';
        pending.arguments += argumentsPiece;
        // The first sighting is reported even without arguments, so consumers see the call begin.
        if (isNew || argumentsPiece !== '') yield { type: 'tool-call-delta', toolCallId: pending.id, toolName: pending.name, inputDelta: argumentsPiece };
      }
      if (choice.finish_reason !== null && choice.finish_reason !== undefined) finishReason = choice.finish_reason;
    }
  } catch (error) {
    throw toModelCallError(error, streamCall, 'stream');
  }
  // The SDK ends a stream quietly when the caller aborts; that is not a clean finish.
  if (call.abortSignal?.aborted === true) throw abortedError(streamCall);
  if (finishReason === null) throw streamTruncatedError(streamCall, started ? 'no finish_reason' : 'no chunks');
  for (const index of [...toolCalls.keys()].sort((left, right) => left - right)) {
    const pending = toolCalls.get(index);
    if (pending === undefined) continue;
    yield { type: 'tool-call', toolCallId: pending.id, toolName: pending.name, input: parseToolArguments(pending.arguments) };
  }
  const refused = refusal !== '';
  yield { type: 'finish', finishReason: chatFinishReason(finishReason, refused), usage: chatUsage(usage), ...(refused ? { refusal } : {}) };
}
