import { BrokenCircuitError, BulkheadRejectedError, CircuitState, handleWhen, retry, TaskCancelledError } from 'cockatiel';
import type { RetryPolicy } from 'cockatiel';
import type { IBackoff, IBackoffFactory, IRetryBackoffContext } from 'cockatiel';
import type { ErrorData } from '../../errors/index.ts';
import { KeelError, toErrorData } from '../../errors/index.ts';
import type { EventData } from '../../journal/index.ts';
import { currentStep } from '../../journal/index.ts';
import type { GenerateOptionsV1, LanguageModelV1 } from '../../spec/index.ts';
import { ModelCallError } from '../model-call-error.ts';
import type { AttemptEnd, AttemptShape } from './attempt-shape.ts';
import { AttemptTimer, attemptFailure } from './attempt-timer.ts';
import type { ResiliencePolicy } from './resilience-policy.ts';
import type { SharedGuards } from './shared-guards.ts';

/** A call that failed on one model after its retries: every attempt's error comes with it. */
export class ModelAttemptsError extends KeelError {
  readonly attempts: ErrorData[];
  readonly last: unknown;
  constructor(model: string, attempts: ErrorData[], last: unknown) {
    const lastData = toErrorData(last);
    super(lastData.code === 'step-threw' ? 'model-error' : (lastData.code as never), `${model}: ${lastData.message} (after ${attempts.length} attempt${attempts.length === 1 ? '' : 's'})`, {
      retryable: lastData.retryable,
      details: { model, attempts: attempts },
    });
    this.name = 'ModelAttemptsError';
    this.attempts = attempts;
    this.last = last;
  }
}

const breakerStates: Record<CircuitState, 'closed' | 'open' | 'half-open' | 'isolated'> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * Exponential backoff with full jitter that never waits less than the provider's `retry-after`:
 * a 429 that says "in 2 s" is retried in 2 s, not in 250 ms.
 */
class RetryAfterBackoff implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  readonly #policy: ResiliencePolicy;
  constructor(policy: ResiliencePolicy) {
    this.#policy = policy;
  }
  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const exponential = Math.min(this.#policy.maxDelayMs, this.#policy.initialDelayMs * 2 ** Math.max(0, context.attempt - 1));
    const jittered = Math.round(exponential / 2 + (Math.random() * exponential) / 2);
    const error = 'error' in context.result ? context.result.error : undefined;
    const asked = error instanceof ModelCallError ? error.retryAfterMs : undefined;
    return { duration: asked === undefined ? jittered : Math.max(asked, jittered), next: (next) => this.next(next) };
  }
}

// An open breaker or a full bulkhead is a reason to move to the next model, not to wait here.
function isRetryable(error: Error): boolean {
  return error instanceof KeelError && error.isRetryable && error.code !== 'breaker-open' && error.code !== 'bulkhead-full';
}

/** An attempt that reached the caller; `ended` resolves once it is over and journaled. */
export interface OpenedAttempt<Opened> {
  value: Opened;
  ended: Promise<AttemptEnd>;
}

/**
 * One model, called under its policy. For each attempt, outermost first: retry (backoff, never
 * sooner than retry-after), bulkhead (its slot held until the attempt is over, a stream's end
 * included), breaker, the attempt timeout, the adapter. Every attempt, wait and breaker transition
 * is journaled into the current step.
 */
export async function callResiliently<Opened>(options: {
  route: string;
  name: string;
  model: LanguageModelV1;
  request: GenerateOptionsV1;
  policy: ResiliencePolicy;
  guards: SharedGuards;
  shape: AttemptShape<Opened>;
}): Promise<OpenedAttempt<Opened>> {
  const { route, name, model, request, policy, guards, shape } = options;
  const step = currentStep();
  const breaker = guards.breakerFor(name, policy);
  const bulkhead = guards.bulkheadFor(route, name, policy);
  const attempts: ErrorData[] = [];
  const retries = retryPolicyFor(policy);
  let attempt = 0;
  try {
    return await retries.execute(async ({ signal }) => {
      attempt += 1;
      const number = attempt;
      const before = breakerStates[breaker.state];
      const noteTransition = () => {
        const after = breakerStates[breaker.state];
        if (after !== before) step?.record('breaker-transition', { breaker: name, from: before, to: after });
      };
      const began = performance.now();
      // The retry's signal is the caller's when it gave one: followed once, not twice.
      const timer = new AttemptTimer(policy.attemptTimeoutMs, request.abortSignal === undefined || request.abortSignal === signal ? [signal] : [signal, request.abortSignal]);
      const attemptRequest = { ...request, abortSignal: timer.signal };
      const failed = (error: unknown): KeelError => {
        const failure = classify(attemptFailure(error, timer, request.abortSignal, model), name);
        step?.record('model-attempt-end', { attempt: number, provider: model.provider, modelId: model.modelId, latencyMs: Math.round(performance.now() - began), outcome: 'error', error: failure.toData() });
        return failure;
      };
      // The bulkhead and the breaker see the whole attempt, to a stream's end: the slot is held
      // while the stream is read, and a stream that fails after it opened counts as a failure.
      let endOf: Promise<AttemptEnd> = Promise.resolve({ ok: false, error: undefined });
      let opened: (value: Opened) => void = () => undefined;
      let notOpened: (error: unknown) => void = () => undefined;
      const opening = new Promise<Opened>((resolve, reject) => {
        opened = resolve;
        notOpened = reject;
      });
      const over = bulkhead.execute(() =>
        breaker.execute(async () => {
          timer.arm();
          let value: Opened;
          try {
            value = await shape.open(model, attemptRequest, timer);
          } finally {
            timer.disarm();
          }
          endOf = shape.ended(value);
          opened(value);
          const end = await endOf;
          if (!end.ok) throw classify(end.error, name);
          return end;
        }),
        // A call waiting for a slot gives up with its caller.
        signal,
      );
      over.catch(notOpened);
      let value: Opened;
      try {
        value = await opening;
      } catch (error) {
        timer.unlink();
        const failure = failed(error);
        attempts.push(failure.toData());
        noteTransition();
        throw failure;
      }
      const finish = (end: AttemptEnd): AttemptEnd => {
        timer.disarm();
        timer.unlink();
        if (end.ok) {
          const attemptEnd: Omit<EventData['model-attempt-end'], 'step'> = {
            attempt: number,
            provider: model.provider,
            modelId: model.modelId,
            latencyMs: Math.round(performance.now() - began),
            outcome: 'ok',
            usage: { inputTokens: end.usage.inputTokens, outputTokens: end.usage.outputTokens },
            responseId: end.responseId,
          };
          if (end.response !== undefined) attemptEnd.responseModel = end.response.modelId;
          if (end.response?.systemFingerprint !== undefined) attemptEnd.systemFingerprint = end.response.systemFingerprint;
          step?.record('model-attempt-end', attemptEnd);
        } else {
          failed(end.error);
        }
        noteTransition();
        return end;
      };
      // One step past the attempt's end whichever way it ended: the call's settlement waits on it.
      const ended = over.then(finish, () => endOf.then(finish));
      return { value, ended };
    }, request.abortSignal);
  } catch (error) {
    if (error instanceof TaskCancelledError || request.abortSignal?.aborted === true) {
      throw new KeelError('deadline-exceeded', `${name}: the call's deadline passed after ${attempts.length} attempt(s)`, { details: { attempts: attempts } });
    }
    throw new ModelAttemptsError(name, attempts, error);
  }
}

const retryPolicies = new WeakMap<ResiliencePolicy, RetryPolicy>();

/**
 * The retry policy of a resilience policy, built once: it keeps no state between executions, and
 * building one per call (its emitters and subscription) was a measurable part of a call's cost.
 * A retry wait is journaled into the step of the call that waits: the event is emitted inside
 * that call's execution, where currentStep() is its step.
 */
function retryPolicyFor(policy: ResiliencePolicy): RetryPolicy {
  let retries = retryPolicies.get(policy);
  if (retries === undefined) {
    retries = retry(handleWhen(isRetryable), { maxAttempts: Math.max(0, policy.maxAttempts - 1), backoff: new RetryAfterBackoff(policy) });
    retries.onRetry((event) => {
      const asked = 'error' in event && event.error instanceof ModelCallError && event.error.retryAfterMs !== undefined;
      currentStep()?.record('retry-wait', { attempt: event.attempt, waitMs: event.delay, reason: asked ? 'retry-after' : 'backoff' });
    });
    retryPolicies.set(policy, retries);
  }
  return retries;
}

function classify(error: unknown, name: string): KeelError {
  if (error instanceof KeelError) return error;
  if (error instanceof BrokenCircuitError) return new KeelError('breaker-open', `${name}: circuit breaker is open after repeated failures`);
  if (error instanceof BulkheadRejectedError) return new KeelError('bulkhead-full', `${name}: too many concurrent calls (bulkhead full)`);
  return new KeelError('model-error', `${name}: ${error instanceof Error ? error.message : String(error)}`, { retryable: false });
}
