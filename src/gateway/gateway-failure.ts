import type { ErrorData } from '../errors/index.ts';

/**
 * What went wrong for the client, before it is put in a provider's error shape: each wire format
 * (openai/openai-error.ts, anthropic/anthropic-error.ts) turns a kind into its own status and type,
 * so an official client raises the exception it raises for that provider.
 */
export type FailureKind =
  | 'invalid-request'
  | 'authentication'
  | 'not-found'
  | 'conflict'
  | 'too-large'
  | 'permission'
  | 'budget'
  | 'rate-limited'
  | 'overloaded'
  | 'timeout'
  | 'upstream'
  | 'internal';

export interface GatewayFailure {
  kind: FailureKind;
  /** One line, for a person: what was wrong and, where it helps, what to do. */
  message: string;
  /** The request field at fault (OpenAI's `param`), e.g. `messages[1].tool_call_id`. */
  param?: string;
  /** A stable code: Keel's error code, or the name of the request problem. */
  code?: string;
  /** When a retry can succeed (a rate limit, or an overload the provider said when to retry): sent as `retry-after` (seconds) and `retry-after-ms`. */
  retryAfterMs?: number;
}

/** A request refused before it became a run (bad body, unknown model): thrown, then rendered. */
export class GatewayRequestError extends Error {
  readonly failure: GatewayFailure;

  constructor(failure: GatewayFailure) {
    super(failure.message);
    this.name = 'GatewayRequestError';
    this.failure = failure;
  }
}

/** A rate limit's wait, as both official clients read it: `retry-after-ms` first, then `retry-after`. */
export function retryAfterHeaders(failure: GatewayFailure): Record<string, string> {
  if (failure.retryAfterMs === undefined) return {};
  return { 'retry-after': String(Math.max(1, Math.ceil(failure.retryAfterMs / 1_000))), 'retry-after-ms': String(Math.max(0, Math.ceil(failure.retryAfterMs))) };
}

export function invalidRequest(message: string, param?: string, code = 'invalid_request'): GatewayRequestError {
  return new GatewayRequestError({ kind: 'invalid-request', message, code, ...(param === undefined ? {} : { param }) });
}

// Failures of one attempt that say something about the request rather than the provider.
const requestFaults = new Set(['model-context-exceeded', 'model-request-invalid', 'model-unsupported', 'usage-invalid', 'agent-input-invalid', 'context-over-budget']);

/** How a run that failed is told to its client, from the error its journal recorded. */
export function failureOfRun(error: ErrorData | undefined, reason: string | undefined): GatewayFailure {
  if (error === undefined) return { kind: 'internal', message: reason ?? 'the run ended without an answer', code: 'internal' };
  const message = oneLine(error.message);
  const kind = kindOf(error.code === 'route-exhausted' ? lastAttemptCode(error) ?? error.code : error.code);
  const failure: GatewayFailure = { kind, message: kind === 'internal' ? `the gateway could not complete the request (${error.code}): ${message}` : message, code: error.code };
  // The provider's own wait, so the client backs off as long as the provider asked; none is invented.
  const retryAfterMs = kind === 'rate-limited' || kind === 'overloaded' ? providerWait(error) : undefined;
  if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
  return failure;
}

function kindOf(code: string): FailureKind {
  if (code === 'budget-exceeded') return 'budget';
  if (code === 'policy-denied' || code === 'tool-denied' || code === 'approval-denied') return 'permission';
  if (requestFaults.has(code)) return 'invalid-request';
  if (code === 'model-rate-limited') return 'rate-limited';
  // A run stopped by a person or by the gateway's shutdown: the service could not finish it.
  if (code === 'model-overloaded' || code === 'breaker-open' || code === 'bulkhead-full' || code === 'run-stopped') return 'overloaded';
  if (code === 'model-timeout' || code === 'deadline-exceeded') return 'timeout';
  if (code.startsWith('model-') || code === 'route-exhausted') return 'upstream';
  return 'internal';
}

/** A route whose every model failed is reported as its last failure: a rate limit stays a 429. */
function lastAttemptCode(error: ErrorData): string | undefined {
  const attempts = error.details?.attempts;
  if (!Array.isArray(attempts)) return undefined;
  const last: unknown = attempts.at(-1);
  return typeof last === 'object' && last !== null && 'code' in last && typeof last.code === 'string' ? last.code : undefined;
}

/**
 * The `retry-after` the provider sent with the failure that decided the outcome: a model's error
 * keeps it in its details (ModelCallError's `retryAfterMs`); a route's or a model's attempts error,
 * in its last attempt's. An earlier attempt's wait is not the one that ended the call.
 */
function providerWait(error: ErrorData): number | undefined {
  const own = error.details?.retryAfterMs;
  if (typeof own === 'number' && Number.isFinite(own) && own >= 0) return own;
  const attempts = error.details?.attempts;
  if (!Array.isArray(attempts)) return undefined;
  const last: unknown = attempts.at(-1);
  return isErrorData(last) ? providerWait(last) : undefined;
}

function isErrorData(value: unknown): value is ErrorData {
  return typeof value === 'object' && value !== null && 'code' in value && typeof value.code === 'string';
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
