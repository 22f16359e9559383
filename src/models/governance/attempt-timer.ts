import type { LanguageModelV1 } from '../../spec/index.ts';
import { ModelCallError } from '../model-call-error.ts';

/**
 * One attempt's time limit, as a signal for the adapter. Unlike `AbortSignal.timeout`, its timer
 * is cleared when the attempt stops waiting: a timer left to run out would keep the attempt's
 * request (and the run state it references) alive until it fired.
 */
export class AttemptTimer {
  readonly timeoutMs: number;
  readonly #controller = new AbortController();
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get fired(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Starts (or restarts) the clock: the provider has `timeoutMs` from now to answer. */
  arm(): void {
    this.disarm();
    if (this.fired) return;
    // Aborted with a TimeoutError, as AbortSignal.timeout does: adapters classify it as a timeout.
    this.#timer = setTimeout(() => this.#controller.abort(new DOMException(`no answer within ${this.timeoutMs} ms`, 'TimeoutError')), this.timeoutMs);
  }

  /** Stops the clock; nothing of the attempt stays referenced by a pending timer. */
  disarm(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** A failure caused by the attempt's own timer (not the caller's signal) is the attempt timing out. */
export function attemptFailure(error: unknown, timer: AttemptTimer, callerSignal: AbortSignal | undefined, model: LanguageModelV1): unknown {
  if (!timer.fired || callerSignal?.aborted === true) return error;
  return new ModelCallError('model-timeout', `no answer within the ${timer.timeoutMs} ms attempt timeout`, { provider: model.provider, modelId: model.modelId });
}
