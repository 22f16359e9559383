import type { GenerateOptionsV1, GenerateResultV1, LanguageModelV1, ResponseInfoV1, UsageV1 } from '../../spec/index.ts';
import type { AttemptTimer } from './attempt-timer.ts';

/** How an attempt that got as far as the caller ended: with the provider's usage, or a failure. */
/** `response`: the model and backend the provider says answered, for the journal and the version watch. */
export type AttemptEnd = { ok: true; usage: UsageV1; responseId: string; response?: ResponseInfoV1 } | { ok: false; error: unknown };

/**
 * What differs between a whole answer and a stream, as one attempt at one model: the governance
 * stack around it (fallback, retry, bulkhead, breaker, timeout) is the same for both.
 */
export interface AttemptShape<Opened> {
  /**
   * Sends the request, with `timer` armed, and resolves once there is something for the caller:
   * the whole answer, or a stream's first content part. Failing here can still be retried.
   */
  open(model: LanguageModelV1, request: GenerateOptionsV1, timer: AttemptTimer): Promise<Opened>;
  /** Resolves, never rejects, when the attempt is over: at once for an answer, at a stream's end. */
  ended(opened: Opened): Promise<AttemptEnd>;
}

export const generateShape: AttemptShape<GenerateResultV1> = {
  open: (model, request) => model.doGenerate(request),
  ended: (result) => Promise.resolve({ ok: true, usage: result.usage, responseId: result.response.id, response: result.response }),
};
