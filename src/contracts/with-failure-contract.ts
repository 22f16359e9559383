import { KeelError } from '../errors/index.ts';
import type { ConfidenceMarker } from '../journal/index.ts';
import { classifyFailure } from './classify-failure.ts';
import type { LowConfidence } from './contract-violation.ts';
import type { AttemptParameters, Failure, FailureAction, FailureContract, FailureKind, FinalFailureAction, RetryParameters } from './failure-contract.ts';
import { checkFailureContract } from './failure-contract.ts';

/** The one thing failure contracts need from a run (the engine's RunContext has it). */
export interface FailureContractRunner {
  markConfidence(marker: ConfidenceMarker): void;
  escalate(reason: string): never;
  /** A run's context has it: every decision is then journaled as a `failure-decision` event. */
  record?(type: 'failure-decision', data: FailureDecision): void;
}

/** What one attempt at the point produced: `generateWithContract`'s result is one. */
export interface AttemptOutcome<Value> {
  value: Value;
  /** Set when the output is valid but under its confidence minimum: a `low-confidence` failure. */
  lowConfidence?: LowConfidence;
}

/**
 * One decision a failure contract made. Shaped as the proposed `failure-decision` journal event;
 * until the journal has it, `onDecision` is how a task or a test sees them.
 */
export interface FailureDecision {
  point: string;
  kind: FailureKind;
  /** `missing`: the contract declared nothing for this kind, and the run fails. */
  action: FailureAction<unknown>['action'] | 'missing';
  detail: string;
}

export interface WithFailureContractOptions {
  onDecision?: (decision: FailureDecision) => void;
}

/**
 * Runs `attempt` under `contract`: a success comes back as its value; a failure is classified
 * (see classify-failure.ts) and handled as the contract declares for its kind. An error that is
 * not a classifiable failure propagates unchanged, and a kind the contract does not mention fails
 * the run loudly: nothing goes on with an answer nobody decided how to treat.
 *
 * Retries count per kind and their changed parameters accumulate, so a retry on another model
 * that then times out keeps that model when the timeout's own retry lowers the temperature.
 * Attempts run as the task's own journaled steps, so on resume they replay and every decision is
 * made again the same way from the same recorded outcomes.
 */
export async function withFailureContract<Value>(
  context: FailureContractRunner,
  contract: FailureContract<Value>,
  attempt: (parameters: AttemptParameters) => Promise<AttemptOutcome<Value>>,
  options: WithFailureContractOptions = {},
): Promise<Value> {
  checkFailureContract(contract);
  const { point } = contract;
  const decide = (kind: FailureKind, action: FailureDecision['action'], detail: string) => {
    const decision: FailureDecision = { point, kind, action, detail };
    context.record?.('failure-decision', decision);
    options.onDecision?.(decision);
  };
  const retriesUsed = new Map<FailureKind, number>();
  let parameters: AttemptParameters = { attempt: 1 };
  for (;;) {
    const tried = await tryAttempt(attempt, parameters);
    if ('value' in tried) return tried.value;
    const { failure, outcome } = tried;
    const declared = contract.on[failure.kind];
    if (declared === undefined) {
      decide(failure.kind, 'missing', `${failure.code}: ${failure.message}`);
      throw new KeelError('failure-contract-missing', `point ${point} has no failure contract for ${failure.kind} (${failure.code}: ${failure.message})`, {
        cause: failure.error,
        details: { point, kind: failure.kind, code: failure.code },
      });
    }
    let action: FinalFailureAction<Value>;
    if (declared.action === 'retry') {
      const used = retriesUsed.get(failure.kind) ?? 0;
      const times = declared.times ?? 1;
      if (used < times) {
        retriesUsed.set(failure.kind, used + 1);
        parameters = { ...parameters, ...declared.with, attempt: parameters.attempt + 1 };
        decide(failure.kind, 'retry', `attempt ${parameters.attempt} with ${describeChanges(declared.with)} after ${failure.code}: ${failure.message}`);
        continue;
      }
      action = declared.then ?? { action: 'fail', reason: `still ${failure.kind} after ${times} ${times === 1 ? 'retry' : 'retries'}` };
    } else {
      action = declared;
    }
    return settle(context, point, failure, action, outcome, decide);
  }
}

type Tried<Value> = { value: Value } | { failure: Failure; outcome?: AttemptOutcome<Value> };

async function tryAttempt<Value>(attempt: (parameters: AttemptParameters) => Promise<AttemptOutcome<Value>>, parameters: AttemptParameters): Promise<Tried<Value>> {
  let outcome: AttemptOutcome<Value>;
  try {
    outcome = await attempt(parameters);
  } catch (error) {
    const failure = classifyFailure(error);
    if (failure === undefined) throw error;
    return { failure };
  }
  const failure = classifyFailure(outcome);
  return failure === undefined ? { value: outcome.value } : { failure, outcome };
}

/** Applies an action that ends the handling: returns the value to go on with, or ends the run. */
async function settle<Value>(
  context: FailureContractRunner,
  point: string,
  failure: Failure,
  action: FinalFailureAction<Value>,
  outcome: AttemptOutcome<Value> | undefined,
  decide: (kind: FailureKind, action: FailureDecision['action'], detail: string) => void,
): Promise<Value> {
  const { kind } = failure;
  const cause = `${failure.code}: ${failure.message}`;
  switch (action.action) {
    case 'fallback':
      decide(kind, 'fallback', `fell back after ${cause}`);
      return action.to(failure);
    case 'default':
      decide(kind, 'default', `used the declared default after ${cause}`);
      return action.value;
    case 'degrade': {
      // Never claim more certainty than the output itself stated.
      const confidence = failure.lowConfidence === undefined ? action.confidence : Math.min(action.confidence, failure.lowConfidence.value);
      context.markConfidence({ subject: point, confidence, reason: `${action.reason} (${cause})` });
      decide(kind, 'degrade', `went on marked ${confidence} confident after ${cause}`);
      if ('partial' in action) return action.partial;
      if (outcome !== undefined) return outcome.value;
      // checkFailureContract requires `partial` wherever a failure leaves no output.
      throw new KeelError('internal', `point ${point}: degrade on ${kind} has no partial value and no output`);
    }
    case 'escalate': {
      const reason = `${action.reason ?? `the failure contract escalates ${kind}`} (point ${point}, ${kind}: ${cause})`;
      decide(kind, 'escalate', reason);
      return context.escalate(reason);
    }
    case 'fail': {
      const reason = `${action.reason ?? `the failure contract fails on ${kind}`} (point ${point}, ${kind}: ${cause})`;
      decide(kind, 'fail', reason);
      // The failure's own code keeps its meaning (status, dashboards); a low confidence is a contract's.
      throw new KeelError(failure.error?.code ?? 'output-contract-violated', reason, {
        retryable: false,
        cause: failure.error,
        details: { point, kind, code: failure.code },
      });
    }
  }
}

function describeChanges(changes: RetryParameters): string {
  const parts: string[] = [];
  if (changes.model !== undefined) parts.push(`model ${changes.model.provider}:${changes.model.modelId}`);
  if (changes.temperature !== undefined) parts.push(`temperature ${changes.temperature}`);
  if (changes.instruction !== undefined) parts.push('a stricter instruction');
  return parts.join(', ');
}
