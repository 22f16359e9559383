import type { LanguageModelV1, ResponseInfoV1, StreamPartV1, UsageV1 } from '../../spec/index.ts';
import { ModelCallError } from '../model-call-error.ts';
import type { AttemptEnd, AttemptShape } from './attempt-shape.ts';
import type { AttemptTimer } from './attempt-timer.ts';
import { attemptFailure } from './attempt-timer.ts';

/** A stream that has produced its first content part; nothing of it has reached the caller yet. */
export interface OpenedStream {
  model: LanguageModelV1;
  /** Read from the provider while opening: its `response-start` and the first content part. */
  head: StreamPartV1[];
  rest: AsyncIterator<StreamPartV1>;
  timer: AttemptTimer;
  callerSignal: AbortSignal | undefined;
  end: (end: AttemptEnd) => void;
  ended: Promise<AttemptEnd>;
}

/**
 * A stream attempt opens when its first content part (anything after `response-start`) arrives:
 * until then nothing has been shown to anyone, so a failure may be retried or fall back to the
 * next model. After it, a failure reaches the caller as an error thrown by the stream.
 */
export const streamShape: AttemptShape<OpenedStream> = {
  async open(model, request, timer) {
    const { stream } = await model.doStream(request);
    const rest = stream[Symbol.asyncIterator]();
    const head: StreamPartV1[] = [];
    try {
      for (;;) {
        const next = await rest.next();
        if (next.done === true) {
          throw new ModelCallError('model-stream-truncated', `${model.provider}:${model.modelId}'s stream ended before any content`, { provider: model.provider, modelId: model.modelId });
        }
        head.push(next.value);
        if (next.value.type !== 'response-start') break;
      }
    } catch (error) {
      closeQuietly(rest);
      throw error;
    }
    let end: (end: AttemptEnd) => void = () => undefined;
    const ended = new Promise<AttemptEnd>((resolve) => {
      end = resolve;
    });
    return { model, head, rest, timer, callerSignal: request.abortSignal, end, ended };
  },
  ended: (opened) => opened.ended,
};

/**
 * The caller's view of an opened stream. The attempt timer runs only while waiting on the
 * provider (it limits each wait for a part, not the time the caller takes to read); the attempt
 * ends when the stream does, fails, or the caller stops reading (`return()`, as `break` does).
 */
export async function* readOpenedStream(opened: OpenedStream): AsyncGenerator<StreamPartV1> {
  let finish: { usage: UsageV1 } | undefined;
  let responseId = '';
  let response: ResponseInfoV1 | undefined;
  let failure: { error: unknown } | undefined;
  const note = (part: StreamPartV1) => {
    if (part.type === 'response-start') {
      responseId = part.response.id;
      response = part.response;
    }
    if (part.type === 'finish') finish = { usage: part.usage };
  };
  try {
    for (const part of opened.head) {
      note(part);
      yield part;
    }
    for (;;) {
      opened.timer.arm();
      let next: IteratorResult<StreamPartV1>;
      try {
        next = await opened.rest.next();
      } finally {
        opened.timer.disarm();
      }
      if (next.done === true) break;
      note(next.value);
      yield next.value;
    }
    if (finish === undefined) {
      const { provider, modelId } = opened.model;
      throw new ModelCallError('model-stream-truncated', `${provider}:${modelId}'s stream ended before its finish part`, { provider, modelId });
    }
  } catch (error) {
    failure = { error: attemptFailure(error, opened.timer, opened.callerSignal, opened.model) };
    throw failure.error;
  } finally {
    opened.timer.disarm();
    if (failure !== undefined && finish === undefined) opened.end({ ok: false, error: failure.error });
    else if (finish !== undefined) opened.end({ ok: true, usage: finish.usage, responseId, ...(response === undefined ? {} : { response }) });
    else {
      // The caller stopped reading before the finish part: close the provider's stream too.
      closeQuietly(opened.rest);
      const { provider, modelId } = opened.model;
      opened.end({ ok: false, error: new ModelCallError('model-aborted', `the caller stopped reading ${provider}:${modelId}'s stream before its end`, { provider, modelId }, { retryable: false }) });
    }
  }
}

function closeQuietly(iterator: AsyncIterator<StreamPartV1>): void {
  Promise.resolve(iterator.return?.()).catch(() => undefined);
}
