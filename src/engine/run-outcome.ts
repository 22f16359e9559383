import type { ErrorData } from '../errors/index.ts';
import type { ConfidenceMarker, RunState, TerminalStatus } from '../journal/index.ts';
import type { JsonValue } from '../spec/index.ts';

/** How a run ended, as the caller of `start` or `resume` sees it. */
export interface RunOutcome {
  runId: string;
  task: string;
  /** A terminal status, or `waiting`: the run is parked, durably, until a person decides. */
  status: TerminalStatus | 'waiting';
  output?: JsonValue;
  reason?: string;
  error?: ErrorData;
  confidence: ConfidenceMarker[];
}

export function outcomeOf(state: RunState): RunOutcome | undefined {
  const end = state.end;
  if (end === undefined) {
    const waiting = state.pendingApproval;
    return waiting === undefined ? undefined : { runId: state.runId, task: state.task, status: 'waiting', reason: waiting.reason, confidence: [] };
  }
  const outcome: RunOutcome = { runId: state.runId, task: state.task, status: end.status, confidence: end.confidence ?? [] };
  if (end.output !== undefined) outcome.output = end.output;
  if (end.reason !== undefined) outcome.reason = end.reason;
  if (end.error !== undefined) outcome.error = end.error;
  return outcome;
}
