import { KeelError } from '../errors/index.ts';
import type { JournalRecordV1 } from '../spec/index.ts';
import type { JournalEvent } from './events.ts';
import { eventTypes, journalSchemaVersion } from './events.ts';

/** Narrows a stored record to the typed union, refusing types and versions this code cannot read. */
export function parseEvent(record: JournalRecordV1): JournalEvent {
  if (!(eventTypes as readonly string[]).includes(record.type)) {
    throw new KeelError('journal-invalid', `run ${record.runId} event ${record.seq} has unknown type ${record.type}`);
  }
  if (record.schemaVersion > journalSchemaVersion) {
    throw new KeelError('journal-invalid', `run ${record.runId} event ${record.seq} has schema version ${record.schemaVersion}, newer than this Keel reads (${journalSchemaVersion})`);
  }
  return record as unknown as JournalEvent;
}

export function toRecord(event: JournalEvent): JournalRecordV1 {
  return event as unknown as JournalRecordV1;
}
