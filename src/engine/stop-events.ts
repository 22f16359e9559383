import type { JournalEvent, JournalWriter, RunState } from '../journal/index.ts';
import { loadRun } from '../journal/index.ts';
import type { StopRequestV1, StoreV1 } from '../spec/index.ts';
import type { CallsInFlight } from './calls-in-flight.ts';
import { endCallsInFlight } from './calls-in-flight.ts';
import { bookPriceVersion } from './left-reservations.ts';

/**
 * A person's stop, as the events that end the run, appended together: the failed ends of the model
 * calls it cut short (`stoppedCalls`, built first on the same writer), the decision and a `failed` end.
 */
export function stopEvents(writer: JournalWriter, request: StopRequestV1, callsCutShort: readonly JournalEvent[] = []): JournalEvent[] {
  const reason = `stopped by ${request.by}: ${request.reason}`;
  return [
    ...callsCutShort,
    writer.build('human-decision', { decision: 'stop', decider: request.by, reason: request.reason }),
    writer.build('run-end', { status: 'failed', reason, error: { code: 'run-stopped', message: reason, retryable: false } }),
  ];
}

/**
 * The model calls a stop cut short, each ended failed and billed what the store's budget book
 * booked for it (calls-in-flight.ts): a stream the stop cut was settled at its reservation by the
 * governed call before it returned, a call that had not answered at what the governed call gave
 * back. Their events go before the stop's (`stopEvents`); each reservation is settled before they
 * are built, so nothing is left to do once they are journaled (calls-in-flight.ts). `takenOver`
 * (why, in words): the run is taken from a process that died, whose other unbilled reservations
 * are billed too (left-reservations.ts).
 */
export async function stoppedCalls(store: StoreV1, writer: JournalWriter, state: RunState, request: StopRequestV1, takenOver?: string): Promise<CallsInFlight> {
  if (takenOver === undefined && ![...state.steps.values()].some((step) => step.end === undefined && step.kind === 'model-call')) {
    return { events: [], billedMicros: 0, billings: [], leftMicros: 0 };
  }
  // The budget decisions are pipelined: those still in the writer's batch land first, then the stored journal has them all.
  await writer.settle();
  const { events } = await loadRun(store, state.runId);
  return endCallsInFlight({
    state,
    events,
    writer,
    budgets: store.budgets,
    priceVersion: bookPriceVersion,
    failure: (billing) => ({ code: 'run-stopped', message: `stopped by ${request.by} while the call was in flight; ${billing}` }),
    ...(takenOver === undefined ? {} : { takenOver }),
  });
}
