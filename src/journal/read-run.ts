import { KeelError } from '../errors/index.ts';
import type { StoreV1 } from '../spec/index.ts';
import type { JournalEvent } from './events.ts';
import type { RunState } from './fold.ts';
import { foldEvents } from './fold.ts';
import { parseEvent } from './parse.ts';
import { verifyChain } from './verify.ts';

export interface LoadedRun {
  events: JournalEvent[];
  state: RunState;
}

/**
 * Reads a run's journal, verifies its hash chain and folds it. A run whose chain does not verify
 * is never executed or replayed: acting on a tampered record would launder the tampering.
 */
export async function loadRun(store: StoreV1, runId: string): Promise<LoadedRun> {
  const records = await store.readJournal(runId);
  if (records.length === 0) throw new KeelError('run-not-found', `run ${runId} not found in ${store.location}`);
  const verdict = verifyChain(records);
  if (!verdict.ok) {
    throw new KeelError('journal-invalid', `run ${runId} event ${verdict.seq} (${verdict.type}) does not verify: ${verdict.problem}`);
  }
  const events = records.map(parseEvent);
  return { events, state: foldEvents(events) };
}
