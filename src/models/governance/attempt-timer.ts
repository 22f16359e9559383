import type { LanguageModelV1 } from '../../spec/index.ts';
import { ModelCallError } from '../model-call-error.ts';

/**
 * One attempt's time limit and its signal for the adapter: aborted when the timer fires, with a
 * TimeoutError as `AbortSignal.timeout` does, or when any of its sources (the retry's, the
 * caller's) aborts, with that source's reason. One controller does both: a model call sets one up
 * per attempt, on its path.
 *
 * Unlike `AbortSignal.timeout`, the timer is cleared when the attempt stops waiting: a timer left
 * to run out would keep the attempt's request (and the run state it references) alive until it
 * fired. Unlike `AbortSignal.any`, it stops following its sources at `unlink`: a composite signal
 * given a listener that is never removed (the OpenAI SDK adds one per request) is kept alive by
 * its sources until they abort, and the engine's sources live as long as the process, so every
 * attempt would stay in memory.
 */
export class AttemptTimer {
  readonly timeoutMs: number;
  readonly #controller = new AbortController();
  readonly #sources: readonly AbortSignal[];
  #timer: NodeJS.Timeout | undefined;
  #fired = false;
  readonly #follow = (event: Event) => {
    this.unlink();
    this.#controller.abort((event.target as AbortSignal).reason);
  };

  constructor(timeoutMs: number, sources: readonly AbortSignal[] = []) {
    this.timeoutMs = timeoutMs;
    this.#sources = sources;
    const aborted = sources.find((source) => source.aborted);
    if (aborted !== undefined) this.#controller.abort(aborted.reason);
    else for (const source of sources) source.addEventListener('abort', this.#follow);
  }

  /** The attempt's signal. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** True once the timer itself ran out (not a source's abort). */
  get fired(): boolean {
    return this.#fired;
  }

  /** Starts (or restarts) the clock: the provider has `timeoutMs` from now to answer. */
  arm(): void {
    this.disarm();
    if (this.#controller.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#fired = true;
      this.unlink();
      this.#controller.abort(new DOMException(`no answer within ${this.timeoutMs} ms`, 'TimeoutError'));
    }, this.timeoutMs);
  }

  /** Stops the clock; nothing of the attempt stays referenced by a pending timer. */
  disarm(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Stops following the sources, at the attempt's end: it leaves no listener on them. */
  unlink(): void {
    for (const source of this.#sources) source.removeEventListener('abort', this.#follow);
  }
}

/** A failure caused by the attempt's own timer (not the caller's signal) is the attempt timing out. */
export function attemptFailure(error: unknown, timer: AttemptTimer, callerSignal: AbortSignal | undefined, model: LanguageModelV1): unknown {
  if (!timer.fired || callerSignal?.aborted === true) return error;
  return new ModelCallError('model-timeout', `no answer within the ${timer.timeoutMs} ms attempt timeout`, { provider: model.provider, modelId: model.modelId });
}
