import { BrokenCircuitError, BulkheadRejectedError, CircuitState, handleWhen, retry, TaskCancelledError } from 'cockatiel';
import type { IBackoff, IBackoffFactory, IRetryBackoffContext } from 'cockatiel';
import type { ErrorData } from '../../errors/index.ts';
import { KeelError, toErrorData } from '../../errors/index.ts';
import { currentStep } from '../../journal/index.ts';
import type { GenerateOptionsV1, GenerateResultV1, LanguageModelV1 } from '../../spec/index.ts';
import { ModelCallError } from '../model-call-error.ts';
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

/**
 * One model, called under its policy: bulkhead, breaker, retries with backoff, a per-attempt
 * timeout. Every attempt, wait and breaker transition is journaled into the current step.
 */
export async function callResiliently(options: {
  route: string;
  name: string;
  model: LanguageModelV1;
  request: GenerateOptionsV1;
  policy: ResiliencePolicy;
  guards: SharedGuards;
}): Promise<GenerateResultV1> {
  const { route, name, model, request, policy, guards } = options;
  const step = currentStep();
  const breaker = guards.breakerFor(name, policy);
  const bulkhead = guards.bulkheadFor(route, name, policy);
  const attempts: ErrorData[] = [];
  const retries = retry(handleWhen(isRetryable), { maxAttempts: Math.max(0, policy.maxAttempts - 1), backoff: new RetryAfterBackoff(policy) });
  const subscription = retries.onRetry((event) => {
    const asked = 'error' in event && event.error instanceof ModelCallError && event.error.retryAfterMs !== undefined;
    step?.record('retry-wait', { attempt: event.attempt, waitMs: event.delay, reason: asked ? 'retry-after' : 'backoff' });
  });
  let attempt = 0;
  try {
    return await retries.execute(async ({ signal }) => {
      attempt += 1;
      const before = breakerStates[breaker.state];
      const began = performance.now();
      try {
        const result = await bulkhead.execute(() => breaker.execute(() => attemptOnce(model, request, policy.attemptTimeoutMs, signal)));
        step?.record('model-attempt-end', {
          attempt,
          provider: model.provider,
          modelId: model.modelId,
          latencyMs: Math.round(performance.now() - began),
          outcome: 'ok',
          usage: { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens },
          responseId: result.response.id,
        });
        return result;
      } catch (error) {
        const failure = classify(error, name);
        attempts.push(failure.toData());
        step?.record('model-attempt-end', { attempt, provider: model.provider, modelId: model.modelId, latencyMs: Math.round(performance.now() - began), outcome: 'error', error: failure.toData() });
        throw failure;
      } finally {
        const after = breakerStates[breaker.state];
        if (after !== before) step?.record('breaker-transition', { breaker: name, from: before, to: after });
      }
    }, request.abortSignal);
  } catch (error) {
    if (error instanceof TaskCancelledError || request.abortSignal?.aborted === true) {
      throw new KeelError('deadline-exceeded', `${name}: the call's deadline passed after ${attempts.length} attempt(s)`, { details: { attempts: attempts } });
    }
    throw new ModelAttemptsError(name, attempts, error);
  } finally {
    subscription.dispose();
  }
}

async function attemptOnce(model: LanguageModelV1, request: GenerateOptionsV1, timeoutMs: number, outer: AbortSignal): Promise<GenerateResultV1> {
  const timer = AbortSignal.timeout(timeoutMs);
  const signal = request.abortSignal === undefined ? AbortSignal.any([outer, timer]) : AbortSignal.any([outer, timer, request.abortSignal]);
  try {
    return await model.doGenerate({ ...request, abortSignal: signal });
  } catch (error) {
    if (timer.aborted && !(request.abortSignal?.aborted ?? false)) {
      throw new ModelCallError('model-timeout', `no answer within the ${timeoutMs} ms attempt timeout`, { provider: model.provider, modelId: model.modelId });
    }
    throw error;
  }
}

function classify(error: unknown, name: string): KeelError {
  if (error instanceof KeelError) return error;
  if (error instanceof BrokenCircuitError) return new KeelError('breaker-open', `${name}: circuit breaker is open after repeated failures`);
  if (error instanceof BulkheadRejectedError) return new KeelError('bulkhead-full', `${name}: too many concurrent calls (bulkhead full)`);
  return new KeelError('model-error', `${name}: ${error instanceof Error ? error.message : String(error)}`, { retryable: false });
}
