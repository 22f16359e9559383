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
/** Opens sealed payload fields of verified events for a reader (src/redaction/open-sealed-fields.ts). */
export type FieldOpener = (events: JournalEvent[]) => Promise<JournalEvent[]>;

/**
 * With `open`, the events (and the state folded from them) have their sealed fields opened, or
 * marked redacted, after the chain verified on the stored form.
 */
export async function loadRun(store: StoreV1, runId: string, options: { open?: FieldOpener } = {}): Promise<LoadedRun> {
  const records = await store.readJournal(runId);
  if (records.length === 0) throw new KeelError('run-not-found', `run ${runId} not found in ${store.location}`);
  const verdict = verifyChain(records);
  if (!verdict.ok) {
    throw new KeelError('journal-invalid', `run ${runId} event ${verdict.seq} (${verdict.type}) does not verify: ${verdict.problem}`);
  }
  const parsed = records.map(parseEvent);
  const events = options.open === undefined ? parsed : await options.open(parsed);
  return { events, state: foldEvents(events) };
}
