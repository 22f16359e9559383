import { createRequire } from 'node:module';
import type * as Pg from 'pg';
import type { DatabaseError } from 'pg';
import { KeelError } from '../../errors/index.ts';
import type { ErrorCode } from '../../errors/index.ts';

// Required when first needed: a driver error exists only once PostgresStore.open has loaded pg, and
// loading it with this module would cost every SQLite user's start-up. The same instance either way.
const require = createRequire(import.meta.url);
const isDatabaseError = (error: unknown): error is DatabaseError => error instanceof (require('pg') as typeof Pg).DatabaseError;

/** True when the server answered with an error: the statement ran and was rolled back. */
export function isServerError(error: unknown): error is DatabaseError {
  return isDatabaseError(error) && !isConnectionState(error.code);
}

export function isUniqueViolation(error: unknown): boolean {
  return isDatabaseError(error) && error.code === '23505';
}

/** One line, whatever was thrown: AggregateErrors from a refused dual-stack connect carry no message. */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describeError(error.errors[0]);
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const text = error.message || (typeof code === 'string' ? code : error.name);
    return text.split('\n')[0] ?? text;
  }
  return String(error);
}

/** True when TLS refused the server's certificate (Node's codes: SELF_SIGNED_CERT_IN_CHAIN, ERR_TLS_CERT_ALTNAME_INVALID, …). */
export function isCertificateError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code);
}

/** Maps a driver failure to Keel's codes; `context` names what was being done, for the message. */
export function toStoreError(error: unknown, context: string): KeelError {
  if (error instanceof KeelError) return error;
  const code = isDatabaseError(error) ? classify(error.code ?? '') : 'db-unavailable';
  return new KeelError(code, `${context}: ${describeError(error)}`, { cause: error });
}

function classify(state: string): ErrorCode {
  if (state === '23505') return 'journal-conflict';
  if (state.startsWith('22') || state.startsWith('23')) return 'journal-invalid';
  if (isConnectionState(state) || isRetryableConflict(state)) return 'db-unavailable';
  // The schema or a table vanished, or the role lost its rights: the store cannot be read as Keel's.
  if (state === '42P01' || state === '3F000' || state === '42501') return 'db-unreadable';
  return 'internal';
}

// Connection exceptions, shutdowns and exhausted connection slots: the server may be fine a moment later.
function isConnectionState(state: string | undefined): boolean {
  return state !== undefined && (state.startsWith('08') || state.startsWith('57P') || state === '53300');
}

// Serialization failures and deadlocks: the transaction was rolled back and may be retried.
function isRetryableConflict(state: string | undefined): boolean {
  return state === '40001' || state === '40P01';
}
