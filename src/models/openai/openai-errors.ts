import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { ErrorCode } from '../../errors/index.ts';
import { codeForStatus, isTimeoutReason, ModelCallError, parseRetryAfter } from '../model-call-error.ts';
import type { ModelCallErrorDetails } from '../model-call-error.ts';
import type { OpenAICall } from './openai-call.ts';
import { describeCall } from './openai-call.ts';

/** Before headers arrive a broken connection is a failed call; after, it is a cut stream. */
export type CallPhase = 'request' | 'stream';

/**
 * Classifies anything the SDK (or our own stream reading) threw into a ModelCallError. The SDK
 * runs with `maxRetries: 0`, so every failure reaches here on its first occurrence.
 */
export function toModelCallError(error: unknown, call: OpenAICall, phase: CallPhase = 'request'): ModelCallError {
  if (error instanceof ModelCallError) return error;
  // The SDK reports a caller's abort as APIUserAbortError, or (mid-stream) by ending quietly;
  // the signal itself says why.
  if (call.abortSignal?.aborted === true) return abortedError(call);
  if (error instanceof APIConnectionTimeoutError) {
    return new ModelCallError('model-timeout', `${describeCall(call)}: request timed out`, identity(call), { cause: error });
  }
  if (error instanceof APIUserAbortError) {
    return new ModelCallError('model-aborted', `${describeCall(call)}: call aborted`, identity(call), { retryable: false, cause: error });
  }
  if (error instanceof APIConnectionError) {
    if (phase === 'stream') return streamTruncatedError(call, error.message, error);
    return new ModelCallError('model-connection-failed', `${describeCall(call)}: ${connectionMessage(error)}`, identity(call), { cause: error });
  }
  // The SDK's APIError is generic over `any`; the defaults are what it actually holds.
  if (error instanceof APIError) return fromAPIError(error as APIError, call);
  if (phase === 'stream') {
    // A chunk that is not JSON is the provider's fault; anything else mid-body (undici's
    // "terminated", a reset socket) means the stream was cut.
    if (error instanceof SyntaxError) {
      return new ModelCallError('model-output-malformed', `${describeCall(call)}: stream chunk is not JSON: ${error.message}`, identity(call), { cause: error });
    }
    return streamTruncatedError(call, error instanceof Error ? error.message : String(error), error);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ModelCallError('model-error', `${describeCall(call)}: ${message}`, identity(call), { cause: error });
}

/** The stream ended (or broke) before the provider said it was finished. */
export function streamTruncatedError(call: OpenAICall, detail: string, cause?: unknown): ModelCallError {
  return new ModelCallError('model-stream-truncated', `${describeCall(call)}: stream ended before the response finished (${detail})`, identity(call), cause === undefined ? {} : { cause });
}

/** The caller's signal fired. A deadline is a timeout (retryable); anything else is a cancellation. */
export function abortedError(call: OpenAICall): ModelCallError {
  const reason: unknown = call.abortSignal?.reason;
  if (isTimeoutReason(reason)) {
    return new ModelCallError('model-timeout', `${describeCall(call)}: timed out (the caller's deadline passed)`, identity(call), { cause: reason });
  }
  return new ModelCallError('model-aborted', `${describeCall(call)}: call aborted`, identity(call), { retryable: false, cause: reason });
}

/**
 * An error the provider reported inside a 200 response (a Responses `error` event, a failed
 * response, a chat stream's `{"error": …}` chunk): there is no status, only its code.
 */
export function providerReportedError(call: OpenAICall, providerCode: string | null | undefined, message: string): ModelCallError {
  const details: ModelCallErrorDetails = identity(call);
  if (typeof providerCode === 'string' && providerCode !== '') details.providerCode = providerCode;
  return new ModelCallError(codeForProviderCode(providerCode ?? undefined, message), `${describeCall(call)}: ${message}`, details);
}

function fromAPIError(error: APIError, call: OpenAICall): ModelCallError {
  const providerCode = stringOrUndefined(error.code) ?? stringOrUndefined(error.type);
  const details: ModelCallErrorDetails = identity(call);
  if (error.status !== undefined) details.status = error.status;
  if (providerCode !== undefined) details.providerCode = providerCode;
  const requestId = stringOrUndefined(error.requestID) ?? call.requestId;
  if (requestId !== undefined) details.requestId = requestId;
  const retryAfterMs = error.headers === undefined ? undefined : parseRetryAfter(error.headers);
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;

  let code: ErrorCode = error.status === undefined ? codeForProviderCode(providerCode, error.message) : codeForStatus(error.status);
  if (isContextExceeded(error)) code = 'model-context-exceeded';
  return new ModelCallError(code, `${describeCall(call)}: ${error.message}`, details, { cause: error, ...retryableOverride(error) });
}

/** `x-should-retry` is the server's own verdict and wins; an exhausted quota will not refill by retrying. */
function retryableOverride(error: APIError): { retryable?: boolean } {
  const header = error.headers?.get('x-should-retry');
  if (header === 'true') return { retryable: true };
  if (header === 'false') return { retryable: false };
  if (error.code === 'insufficient_quota') return { retryable: false };
  return {};
}

/**
 * OpenAI says `context_length_exceeded`; OpenAI-compatible servers say it in prose (vLLM:
 * "maximum context length", llama.cpp: `exceed_context_size_error`).
 */
function isContextExceeded(error: APIError): boolean {
  if (error.code === 'context_length_exceeded' || error.type === 'exceed_context_size_error') return true;
  if (error.status !== 400 && error.status !== 413) return false;
  return /maximum context length|context[_ ]length[_ ]exceeded|exceeds the available context size/i.test(error.message);
}

function codeForProviderCode(providerCode: string | undefined, message: string): ErrorCode {
  switch (providerCode) {
    case 'server_error':
      return 'model-server-error';
    case 'rate_limit_exceeded':
      return 'model-rate-limited';
    case 'context_length_exceeded':
      return 'model-context-exceeded';
    case 'invalid_prompt':
    case 'invalid_request_error':
      return 'model-request-invalid';
    default:
      return /overloaded/i.test(message) ? 'model-overloaded' : 'model-error';
  }
}

function connectionMessage(error: APIConnectionError): string {
  const cause: unknown = error.cause;
  return cause instanceof Error && cause.message !== error.message ? `${error.message} (${cause.message})` : error.message;
}

function identity(call: OpenAICall): ModelCallErrorDetails {
  const details: ModelCallErrorDetails = { provider: call.provider, modelId: call.modelId };
  if (call.requestId !== undefined) details.requestId = call.requestId;
  return details;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
