import type { ErrorCode } from '../errors/index.ts';
import { KeelError } from '../errors/index.ts';

export interface ModelCallErrorDetails {
  provider: string;
  modelId: string;
  /** HTTP status, when the failure came from an HTTP response. */
  status?: number;
  /** Parsed from `retry-after` / `retry-after-ms`: how long the provider asked us to wait. */
  retryAfterMs?: number;
  requestId?: string;
  /** The provider's own error type or code (e.g. `rate_limit_error`, `overloaded_error`). */
  providerCode?: string;
}

/**
 * A failed call to a provider, classified into a stable Keel code. Adapters throw only this;
 * resilience policy reads `code`, `isRetryable` and `retryAfterMs`.
 */
export class ModelCallError extends KeelError {
  readonly provider: string;
  readonly modelId: string;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly requestId: string | undefined;

  constructor(code: ErrorCode, message: string, details: ModelCallErrorDetails, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(code, message, { ...options, details: { ...details } });
    this.name = 'ModelCallError';
    this.provider = details.provider;
    this.modelId = details.modelId;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.requestId = details.requestId;
  }
}

/** The Keel code for an HTTP status from a model provider. */
export function codeForStatus(status: number): ErrorCode {
  if (status === 429) return 'model-rate-limited';
  if (status === 529 || status === 503) return 'model-overloaded';
  if (status === 401 || status === 403) return 'model-auth-failed';
  if (status === 404) return 'model-not-found';
  if (status === 408 || status === 504) return 'model-timeout';
  if (status === 413) return 'model-context-exceeded';
  if (status >= 500) return 'model-server-error';
  return 'model-request-invalid';
}

/** Did a caller's signal fire for a deadline (a timeout) rather than a plain cancellation? */
export function isTimeoutReason(reason: unknown): boolean {
  if (typeof reason !== 'object' || reason === null) return false;
  // AbortSignal.timeout() aborts with a DOMException named TimeoutError.
  if ('name' in reason && reason.name === 'TimeoutError') return true;
  return 'code' in reason && reason.code === 'model-timeout';
}

/** Reads `retry-after-ms` (ms) or `retry-after` (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(headers: { get(name: string): string | null }, now: number = Date.now()): number | undefined {
  const milliseconds = headers.get('retry-after-ms');
  if (milliseconds !== null && Number.isFinite(Number(milliseconds))) return Math.max(0, Number(milliseconds));
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.max(0, Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
