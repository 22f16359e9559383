import { KeelError } from '../errors/index.ts';
import type { LowConfidence } from './contract-violation.ts';
import type { Failure, FailureKind } from './failure-contract.ts';

/**
 * Which failure kind a Keel error code is, for a failure contract to act on:
 *
 * | code                                                              | kind                              |
 * | ----------------------------------------------------------------- | --------------------------------- |
 * | (a valid output whose confidence is under the contract's minimum) | low-confidence                    |
 * | output-contract-violated, model-output-malformed,                 | malformed                         |
 * |   model-stream-truncated, tool-output-invalid                     |                                   |
 * | model-timeout, tool-timeout                                       | timeout                           |
 * | model-refused                                                     | refusal                           |
 * | model-rate-limited, model-overloaded, model-server-error,         | unavailable                       |
 * |   model-connection-failed, breaker-open, bulkhead-full,           |                                   |
 * |   db-unavailable, retriever-unavailable                           |                                   |
 * | model-error, tool-error, when retryable                           | unavailable                       |
 * | route-exhausted (and a model's attempts error), by its attempts:  | that kind; mixed kinds:           |
 * |   every attempt classified the same                               |   unavailable; none listed:       |
 * |                                                                   |   unavailable                     |
 * | anything else                                                     | none: the error propagates        |
 *
 * Left unclassified on purpose, so no contract can paper over them: the run's own deadline and
 * budget (`deadline-exceeded`, `budget-exceeded`: the engine ends the run by its own rules, and
 * going on with a default past them would end it `ok` late or over budget), a lost lease,
 * configuration and request errors (`model-auth-failed`, `model-request-invalid`,
 * `model-not-found`, `model-context-exceeded`: another model or a default would hide a bug), a
 * non-retryable `model-error`/`tool-error` (an arbitrary exception), replay divergence, and
 * anything that is not a KeelError. A route whose attempts include one of those propagates too.
 */
const kindByCode: Partial<Record<string, FailureKind>> = {
  'output-contract-violated': 'malformed',
  'model-output-malformed': 'malformed',
  // The answer arrived but incomplete: unusable as it is, like a malformed one.
  'model-stream-truncated': 'malformed',
  'tool-output-invalid': 'malformed',
  'model-timeout': 'timeout',
  'tool-timeout': 'timeout',
  'model-refused': 'refusal',
  'model-rate-limited': 'unavailable',
  'model-overloaded': 'unavailable',
  'model-server-error': 'unavailable',
  'model-connection-failed': 'unavailable',
  'breaker-open': 'unavailable',
  'bulkhead-full': 'unavailable',
  'db-unavailable': 'unavailable',
  'retriever-unavailable': 'unavailable',
};

/**
 * Journals written before `tool-timeout` and `tool-output-invalid` existed record those failures as
 * `tool-error` with `details.reason`; replay must classify them as they were classified live.
 */
const kindByLegacyToolReason: Partial<Record<string, FailureKind>> = { timeout: 'timeout', 'output-invalid': 'malformed' };

/** Codes as generic as "it failed": a dependency being down only when the error says it is transient. */
const unavailableWhenRetryable = new Set(['model-error', 'tool-error']);

/** The parts of an error (live, or rebuilt from the journal on replay) that decide its kind. */
interface ErrorFacts {
  code: string;
  retryable: boolean;
  details: Record<string, unknown> | undefined;
}

/**
 * The failure kind of an error or of a result flagged low-confidence; `undefined` when the thing
 * is not a failure a contract may handle, in which case the caller must let it propagate.
 */
export function classifyFailure(source: unknown): Failure | undefined {
  if (source instanceof KeelError) {
    const kind = kindOf({ code: source.code, retryable: source.isRetryable, details: source.details });
    return kind === undefined ? undefined : { kind, code: source.code, message: source.message, error: source };
  }
  const lowConfidence = lowConfidenceOf(source);
  if (lowConfidence === undefined) return undefined;
  return {
    kind: 'low-confidence',
    code: 'low-confidence',
    message: `${lowConfidence.field} ${lowConfidence.value} is below the minimum ${lowConfidence.minimum}`,
    lowConfidence,
  };
}

function kindOf(facts: ErrorFacts): FailureKind | undefined {
  const { code, retryable, details } = facts;
  if (code === 'route-exhausted') return routeKind(details?.attempts);
  if (code === 'tool-error') {
    const reason = details?.reason;
    const byReason = typeof reason === 'string' ? kindByLegacyToolReason[reason] : undefined;
    if (byReason !== undefined) return byReason;
  }
  if (unavailableWhenRetryable.has(code)) return retryable ? 'unavailable' : undefined;
  return kindByCode[code];
}

/** A route failed when every model did: its kind is what the attempts agree on; none if one of them has none. */
function routeKind(attempts: unknown): FailureKind | undefined {
  if (!Array.isArray(attempts) || attempts.length === 0) return 'unavailable';
  const kinds = new Set<FailureKind>();
  for (const attempt of attempts) {
    const facts = factsOf(attempt);
    // A route among a route's models is classified by its own attempts, through kindOf.
    const kind = facts === undefined ? undefined : kindOf(facts);
    if (kind === undefined) return undefined;
    kinds.add(kind);
  }
  const [only] = kinds;
  return kinds.size === 1 && only !== undefined ? only : 'unavailable';
}

function factsOf(data: unknown): ErrorFacts | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { code, retryable, details } = data as { code?: unknown; retryable?: unknown; details?: unknown };
  if (typeof code !== 'string') return undefined;
  return { code, retryable: retryable === true, details: typeof details === 'object' && details !== null ? (details as Record<string, unknown>) : undefined };
}

function lowConfidenceOf(source: unknown): LowConfidence | undefined {
  if (typeof source !== 'object' || source === null || source instanceof Error) return undefined;
  const low = (source as { lowConfidence?: unknown }).lowConfidence;
  if (typeof low !== 'object' || low === null) return undefined;
  const { field, value, minimum } = low as Partial<LowConfidence>;
  if (typeof field !== 'string' || typeof value !== 'number' || typeof minimum !== 'number') return undefined;
  return { field, value, minimum };
}
