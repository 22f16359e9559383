/**
 * Failures both ways. Keel's failures reach the framework as its own APICallError, recognised the
 * way the AI SDK recognises its errors (`APICallError.isInstance`, a marker symbol, so it holds
 * across copies of the package), while staying a KeelError with its stable code, so a task that
 * lets the error through ends its run as Keel ends any run (a budget stop, a lost lease). An AI SDK
 * model's failures reach Keel's retries and breakers as a classified ModelCallError.
 */
import { APICallError } from '@ai-sdk/provider';
import { KeelError } from '../errors/index.ts';
import { codeForStatus, ModelCallError, parseRetryAfter } from '../models/index.ts';

const aiSdkErrorMarker = Symbol.for('vercel.ai.error');
const apiCallErrorMarker = Symbol.for('vercel.ai.error.AI_APICallError');

/** A KeelError the AI SDK treats as its APICallError (`APICallError.isInstance(error)` is true). */
export class KeelApiCallError extends KeelError {
  readonly url: string;
  readonly requestBodyValues: unknown = {};
  readonly statusCode: number;
  readonly responseHeaders: Record<string, string> | undefined = undefined;
  readonly responseBody: string | undefined = undefined;
  /** The original failure's data: its code, message, retryability and details. */
  readonly data: unknown;

  constructor(error: KeelError, options: { url: string; retryable: boolean }) {
    super(error.code, error.message, { retryable: options.retryable, cause: error, ...(error.details === undefined ? {} : { details: error.details }) });
    this.name = 'AI_APICallError';
    this.url = options.url;
    this.statusCode = error instanceof ModelCallError && error.status !== undefined ? error.status : error.httpStatus;
    this.data = error.toData();
    Object.defineProperty(this, aiSdkErrorMarker, { value: true });
    Object.defineProperty(this, apiCallErrorMarker, { value: true });
  }
}

/**
 * What the framework sees of a failure. `retryable: false` where Keel has already retried as the
 * route says, so the AI SDK's own retries do not multiply them. Anything that is not a KeelError
 * (the engine's signals for an approval wait, an escalation, a rollback) passes through untouched.
 */
export function aiSdkErrorOf(error: unknown, options: { url: string; keepRetryable: boolean }): unknown {
  if (!(error instanceof KeelError) || error instanceof KeelApiCallError) return error;
  return new KeelApiCallError(error, { url: options.url, retryable: options.keepRetryable && error.isRetryable });
}

/** An AI SDK model's failure, classified as a Keel adapter would classify it. */
export function modelCallErrorOf(error: unknown, model: { provider: string; modelId: string }, signal: AbortSignal | undefined): KeelError {
  if (error instanceof KeelError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (signal?.aborted === true) {
    const reason: unknown = signal.reason;
    const timedOut = typeof reason === 'object' && reason !== null && (('name' in reason && reason.name === 'TimeoutError') || ('code' in reason && reason.code === 'model-timeout'));
    return new ModelCallError(timedOut ? 'model-timeout' : 'model-aborted', `${model.provider}:${model.modelId}: ${message}`, model, { cause: error });
  }
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const retryAfterMs = error.responseHeaders === undefined ? undefined : parseRetryAfter(new Headers(error.responseHeaders));
    const details = { ...model, ...(status === undefined ? {} : { status }), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    return new ModelCallError(status === undefined ? 'model-connection-failed' : codeForStatus(status), `${model.provider}:${model.modelId}: ${message}`, details, { retryable: error.isRetryable, cause: error });
  }
  // Not a provider's answer (a bug, a bad setting): trying again would fail the same way.
  return new ModelCallError('model-error', `${model.provider}:${model.modelId}: ${message}`, model, { retryable: false, cause: error });
}
