import { AnthropicError, APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { ErrorCode } from '../../errors/index.ts';
import { codeForStatus, isTimeoutReason, ModelCallError, parseRetryAfter } from '../model-call-error.ts';
import type { ModelCallErrorDetails } from '../model-call-error.ts';

export interface AnthropicCallContext {
  provider: string;
  modelId: string;
  /** Known once response headers arrived (a failure mid-stream), so even a cut connection names its request. */
  requestId?: string | null;
}

/**
 * Error types Anthropic sends without an HTTP status: an `event: error` in the middle of a 200
 * stream carries only the body's `error.type`, so the type is all there is to classify by.
 */
const codeForErrorType: Record<string, ErrorCode> = {
  overloaded_error: 'model-overloaded',
  rate_limit_error: 'model-rate-limited',
  api_error: 'model-server-error',
  timeout_error: 'model-timeout',
  authentication_error: 'model-auth-failed',
  permission_error: 'model-auth-failed',
  not_found_error: 'model-not-found',
  request_too_large: 'model-context-exceeded',
  invalid_request_error: 'model-request-invalid',
  billing_error: 'model-request-invalid',
};

/**
 * Anthropic reports an over-long prompt as a plain 400 `invalid_request_error`; only the message
 * tells it apart ("prompt is too long: 208315 tokens > 200000 maximum"), and retrying the same
 * prompt can never succeed, so it gets its own code.
 */
const contextExceededMessage = /prompt is too long|context window|context length|too many (input )?tokens/i;

/** Any failure from the SDK (or around it) as the one error type adapters throw. */
export function toModelCallError(error: unknown, context: AnthropicCallContext, fallbackCode: ErrorCode = 'model-error'): ModelCallError {
  if (error instanceof ModelCallError) return error;
  const base = baseDetails(context);
  const prefix = `${context.provider} ${context.modelId}`;
  if (error instanceof APIUserAbortError) return abortedCallError(context, error);
  // The timeout class extends the connection class, so it is checked first.
  if (error instanceof APIConnectionTimeoutError) {
    return new ModelCallError('model-timeout', `${prefix}: request timed out`, base, { cause: error });
  }
  if (error instanceof APIConnectionError) {
    return new ModelCallError('model-connection-failed', `${prefix}: ${error.message}`, base, { cause: error });
  }
  // `instanceof` narrows to APIError<any, …>; the SDK's own default parameters say what it holds.
  if (error instanceof APIError) return fromApiError(error as APIError, context);
  // Raised inside the SDK before anything is sent (a non-streaming call too long for one response,
  // say): the same request would fail the same way again.
  if (error instanceof AnthropicError) {
    return new ModelCallError('model-request-invalid', `${prefix}: ${error.message}`, base, { cause: error, retryable: false });
  }
  const message = error instanceof Error ? error.message || error.name : String(error);
  return new ModelCallError(fallbackCode, `${prefix}: ${message}`, base, { cause: error });
}

/**
 * The caller's abort signal fired: not a provider failure. A deadline is a timeout (retryable);
 * anything else is a cancellation, never worth retrying.
 */
export function abortedCallError(context: AnthropicCallContext, cause: unknown): ModelCallError {
  if (isTimeoutReason(cause)) return new ModelCallError('model-timeout', `${context.provider} ${context.modelId}: call aborted`, baseDetails(context), { cause });
  return new ModelCallError('model-aborted', `${context.provider} ${context.modelId}: call aborted`, baseDetails(context), { cause, retryable: false });
}

export function baseDetails(context: AnthropicCallContext): ModelCallErrorDetails {
  const details: ModelCallErrorDetails = { provider: context.provider, modelId: context.modelId };
  if (typeof context.requestId === 'string') details.requestId = context.requestId;
  return details;
}

function fromApiError(error: APIError, context: AnthropicCallContext): ModelCallError {
  const providerCode = error.type ?? undefined;
  const code = classify(error.status, providerCode, error.apiMessage);
  const details = baseDetails(context);
  if (error.status !== undefined) details.status = error.status;
  if (error.headers !== undefined) {
    const retryAfterMs = parseRetryAfter(error.headers);
    if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;
  }
  if (typeof error.requestID === 'string') details.requestId = error.requestID;
  if (providerCode !== undefined) details.providerCode = providerCode;
  const status = error.status === undefined ? 'mid-stream' : String(error.status);
  const explanation = error.apiMessage ?? error.message;
  const message = `${context.provider} ${context.modelId}: ${status} ${providerCode ?? 'error'}: ${explanation}`;
  const retryable = shouldRetryHeader(error.headers);
  return new ModelCallError(code, message, details, retryable === undefined ? { cause: error } : { cause: error, retryable });
}

function classify(status: number | undefined, providerCode: string | undefined, apiMessage: string | null): ErrorCode {
  if (providerCode === 'overloaded_error') return 'model-overloaded';
  if (providerCode === 'invalid_request_error' && apiMessage !== null && contextExceededMessage.test(apiMessage)) return 'model-context-exceeded';
  if (status !== undefined) return codeForStatus(status);
  return (providerCode === undefined ? undefined : codeForErrorType[providerCode]) ?? 'model-server-error';
}

/** Anthropic's `x-should-retry` overrides what the status alone would suggest, either way. */
function shouldRetryHeader(headers: Headers | undefined): boolean | undefined {
  const value = headers?.get('x-should-retry');
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}
