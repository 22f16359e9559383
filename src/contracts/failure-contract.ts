/**
 * Failure contracts: for one integration point of a task (a model call, a tool, a retrieval, a
 * validation), what happens on each kind of failure. Declared beside the task, like an output
 * contract, so the behaviour under failure is reviewed code rather than whatever a catch block
 * happened to do:
 *
 *   const triageFailures = defineFailureContract<Triage>({
 *     point: 'triage',
 *     on: {
 *       malformed: { action: 'retry', with: { model: steadierModel, temperature: 0 }, then: { action: 'escalate' } },
 *       timeout: { action: 'default', value: { category: 'general' } },
 *       'low-confidence': { action: 'degrade', confidence: 0.4, reason: 'triage unsure' },
 *       refusal: { action: 'escalate', reason: 'the model declined to triage' },
 *       unavailable: { action: 'fail', reason: 'triage needs a model' },
 *     },
 *   });
 *
 * A kind left out is not "ignore": `withFailureContract` fails the run loudly when it happens.
 */
import { KeelError } from '../errors/index.ts';
import type { LanguageModelV1 } from '../spec/index.ts';
import type { LowConfidence } from './contract-violation.ts';

export type FailureKind = 'low-confidence' | 'malformed' | 'timeout' | 'refusal' | 'unavailable';

export const failureKinds: readonly FailureKind[] = ['low-confidence', 'malformed', 'timeout', 'refusal', 'unavailable'];

/** What a retry changes. At least one of them: repeating the same call is the resilience layer's job. */
export interface RetryParameters {
  /** Another model (or route) to ask. */
  model?: LanguageModelV1;
  temperature?: number;
  /** A stricter instruction, added to the system prompt (see `requestWithParameters`). */
  instruction?: string;
}

/** What an attempt is handed: the parameters changed so far, and which attempt this is (1-based). */
export interface AttemptParameters extends RetryParameters {
  attempt: number;
}

/** One failure at a point, classified (see classify-failure.ts). */
export interface Failure {
  kind: FailureKind;
  /** The Keel error code behind it, or `low-confidence` when the output was valid but unsure. */
  code: string;
  message: string;
  /** The error, when the failure was one. */
  error?: KeelError;
  /** The output's stated confidence, for `low-confidence`. */
  lowConfidence?: LowConfidence;
}

/** An action that ends the handling of a failure (everything but a retry). */
export type FinalFailureAction<Value> =
  /** Ask something else: another source, a cache, a simpler method. Its own failures propagate (give it its own contract). */
  | { action: 'fallback'; to: (failure: Failure) => Promise<Value> }
  /** Use a declared value. */
  | { action: 'default'; value: Value }
  /**
   * Go on with `partial` (or, on low confidence, the unsure output itself) and mark it: the run
   * then ends `degraded` with a confidence marker for this point.
   */
  | { action: 'degrade'; confidence: number; reason: string; partial?: Value }
  /** Hand the run to a person: it ends `escalated`. */
  | { action: 'escalate'; reason?: string }
  /** End the run `failed` with this reason. */
  | { action: 'fail'; reason?: string };

export type FailureAction<Value> =
  /**
   * Try again with changed parameters, at most `times` (default 1) for this kind; when those are
   * spent, `then` (default: fail with the last failure).
   */
  | { action: 'retry'; times?: number; with: RetryParameters; then?: FinalFailureAction<Value> }
  | FinalFailureAction<Value>;

export interface FailureContract<Value> {
  /** The integration point, as decisions and errors name it (`triage`, `knowledge-base`). */
  point: string;
  on: Partial<Record<FailureKind, FailureAction<Value>>>;
}

/** Checks a contract once, where it is defined, so a mistake fails at start and not on the rare failure path. */
export function defineFailureContract<Value>(contract: FailureContract<Value>): FailureContract<Value> {
  checkFailureContract(contract);
  return contract;
}

export function checkFailureContract<Value>(contract: FailureContract<Value>): void {
  if (typeof contract.point !== 'string' || contract.point.trim() === '') throw invalid('(unnamed)', 'the point needs a name');
  for (const [kind, action] of Object.entries(contract.on) as [string, FailureAction<Value> | undefined][]) {
    if (!(failureKinds as readonly string[]).includes(kind)) throw invalid(contract.point, `unknown failure kind '${kind}' (known: ${failureKinds.join(', ')})`);
    if (action === undefined) continue;
    checkAction(contract.point, kind as FailureKind, action);
  }
}

function checkAction<Value>(point: string, kind: FailureKind, action: FailureAction<Value>): void {
  switch (action.action) {
    case 'retry': {
      const times = action.times ?? 1;
      if (!Number.isInteger(times) || times < 1) throw invalid(point, `${kind}: retry times must be an integer of at least 1, got ${times}`);
      const changes = action.with;
      if (changes.model === undefined && changes.temperature === undefined && changes.instruction === undefined) {
        throw invalid(point, `${kind}: a retry must change something (model, temperature or instruction); plain retries belong to the resilience policy`);
      }
      if (changes.temperature !== undefined && !(changes.temperature >= 0 && changes.temperature <= 2)) {
        throw invalid(point, `${kind}: retry temperature must be between 0 and 2, got ${changes.temperature}`);
      }
      if (action.then !== undefined) {
        if ((action.then.action as string) === 'retry') throw invalid(point, `${kind}: 'then' after a retry cannot be another retry; raise 'times'`);
        checkAction(point, kind, action.then);
      }
      return;
    }
    case 'fallback':
      if (typeof action.to !== 'function') throw invalid(point, `${kind}: fallback needs a 'to' function`);
      return;
    case 'default':
      if (!('value' in action)) throw invalid(point, `${kind}: default needs a 'value'`);
      return;
    case 'degrade':
      if (!(action.confidence >= 0 && action.confidence <= 1)) throw invalid(point, `${kind}: degrade confidence must be between 0 and 1, got ${action.confidence}`);
      if (typeof action.reason !== 'string' || action.reason === '') throw invalid(point, `${kind}: degrade needs a reason (it becomes the confidence marker's)`);
      // Only a low-confidence failure comes with an output; any other has nothing to go on with.
      if (kind !== 'low-confidence' && !('partial' in action)) throw invalid(point, `${kind}: degrade needs a 'partial' value, since this failure leaves no output`);
      return;
    case 'escalate':
    case 'fail':
      return;
    default:
      throw invalid(point, `${kind}: unknown action '${(action as { action: string }).action}'`);
  }
}

function invalid(point: string, problem: string): KeelError {
  return new KeelError('config-invalid', `failure contract for point ${point}: ${problem}`, { details: { point } });
}
