import type { JournalRecordV1 } from '../spec/index.ts';
import { eventTypes } from './events.ts';
import { genesisHash, hashRecord } from './hash.ts';

export type ChainVerdict =
  | { ok: true; events: number; lastHash: string }
  | { ok: false; events: number; seq: number; type: string; problem: string };

/**
 * Recomputes a run's hash chain from its first event. The first event that does not verify is
 * named: tampering with any field of any event, or removing or reordering events, is caught here.
 */
export function verifyChain(records: readonly JournalRecordV1[]): ChainVerdict {
  let prevHash = genesisHash;
  let expectedSeq = 1;
  for (const record of records) {
    const fail = (problem: string): ChainVerdict => ({ ok: false, events: records.length, seq: record.seq, type: record.type, problem });
    if (record.seq !== expectedSeq) return fail(`expected seq ${expectedSeq}, found ${record.seq} (an event is missing or out of order)`);
    if (record.prevHash !== prevHash) return fail('its prevHash does not match the hash of the event before it');
    if (hashRecord(record) !== record.hash) return fail('its content does not match its hash (the event was altered)');
    if (!(eventTypes as readonly string[]).includes(record.type)) return fail(`unknown event type ${record.type}`);
    if (record.seq === 1 && record.type !== 'run-start') return fail('a journal must begin with run-start');
    prevHash = record.hash;
    expectedSeq += 1;
  }
  if (records.length === 0) return { ok: false, events: 0, seq: 0, type: 'none', problem: 'the run has no events' };
  return { ok: true, events: records.length, lastHash: prevHash };
}
