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

/**
 * A signal aborted when any source aborts, for one attempt. Not `AbortSignal.any`: a composite
 * signal given a listener that is never removed (the OpenAI SDK adds one per request) is kept
 * alive by its sources until they abort, and the engine's sources live as long as the process,
 * so every attempt would stay in memory. This one is released with `unlink` at the attempt's end.
 */
export function linkedSignal(sources: readonly AbortSignal[]): { signal: AbortSignal; unlink: () => void } {
  const controller = new AbortController();
  const unlink = () => {
    for (const source of sources) source.removeEventListener('abort', abort);
  };
  function abort(this: AbortSignal) {
    unlink();
    controller.abort(this.reason);
  }
  const aborted = sources.find((source) => source.aborted);
  if (aborted !== undefined) controller.abort(aborted.reason);
  else for (const source of sources) source.addEventListener('abort', abort);
  return { signal: controller.signal, unlink };
}
