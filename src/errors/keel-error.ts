import type { ErrorCode } from './codes.ts';
import { errorCodes } from './codes.ts';

/** The serialisable form of an error: what the journal records, never a raw Error. */
export interface ErrorData {
  code: string;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown>;
}

export interface KeelErrorOptions {
  retryable?: boolean;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** The one error base class: a stable string code, a retryability flag, an HTTP status by code. */
export class KeelError extends Error {
  readonly code: ErrorCode;
  readonly isRetryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: KeelErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KeelError';
    this.code = code;
    this.isRetryable = options.retryable ?? errorCodes[code].retryable;
    this.details = options.details;
  }

  get httpStatus(): number {
    return errorCodes[this.code].httpStatus;
  }

  toData(): ErrorData {
    const data: ErrorData = { code: this.code, message: this.message, retryable: this.isRetryable };
    if (this.details !== undefined) data.details = this.details;
    return data;
  }

  static isKeelError(value: unknown): value is KeelError {
    return value instanceof KeelError;
  }
}

/** Any thrown value as journal data: Keel errors keep their code, anything else becomes `step-threw`. */
export function toErrorData(error: unknown): ErrorData {
  if (error instanceof KeelError) return error.toData();
  if (error instanceof Error) return { code: 'step-threw', message: error.message || error.name, retryable: false };
  return { code: 'step-threw', message: String(error), retryable: false };
}
