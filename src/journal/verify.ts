import type { JournalRecordV1 } from '../spec/index.ts';
import { eventTypes } from './events.ts';
import { canonicalJson, genesisHash, hashRecord, hashWithData } from './hash.ts';

/** A journal record as stored: its data the stored JSON text, not parsed. */
export type StoredJournalRecord = Omit<JournalRecordV1, 'data'> & { dataText: string };

export type ChainVerdict =
  | { ok: true; events: number; lastHash: string }
  | { ok: false; events: number; seq: number; type: string; problem: string };

/**
 * Recomputes a run's hash chain from its first event. The first event that does not verify is
 * named: tampering with any field of any event, or removing or reordering events, is caught here.
 */
export function verifyChain(records: readonly JournalRecordV1[]): ChainVerdict {
  return walkChain(records, (record) => hashRecord(record) === record.hash);
}

/**
 * The same check over records as stored, for whole-store audits. The stored text is hashed as it
 * is, without parsing it and serialising it again: a match proves these are the bytes the writer
 * sealed (Keel seals the canonical JSON of the data; this does not re-prove that whoever sealed
 * them serialised canonically, which only matters for a chain whose hashes were all recomputed,
 * and no chain check can catch that). Text that does not hash as stored is parsed and hashed in
 * canonical form, as verifyChain does, so data stored in another but equal spelling (an older
 * writer's key order for integer-like keys) still verifies and only an altered event fails.
 */
export function verifyStoredChain(records: readonly StoredJournalRecord[]): ChainVerdict {
  return walkChain(records, (record) => hashWithData(record, record.dataText) === record.hash || canonicalHash(record) === record.hash);
}

function canonicalHash(record: StoredJournalRecord): string | undefined {
  let data: unknown;
  try {
    data = JSON.parse(record.dataText);
  } catch {
    return undefined;
  }
  return hashWithData(record, canonicalJson(data));
}

function walkChain<Stored extends Omit<JournalRecordV1, 'data'>>(records: readonly Stored[], hashMatches: (record: Stored) => boolean): ChainVerdict {
  let prevHash = genesisHash;
  let expectedSeq = 1;
  for (const record of records) {
    const fail = (problem: string): ChainVerdict => ({ ok: false, events: records.length, seq: record.seq, type: record.type, problem });
    if (record.seq !== expectedSeq) return fail(`expected seq ${expectedSeq}, found ${record.seq} (an event is missing or out of order)`);
    if (record.prevHash !== prevHash) return fail('its prevHash does not match the hash of the event before it');
    if (!hashMatches(record)) return fail('its content does not match its hash (the event was altered)');
    if (!knownTypes.has(record.type)) return fail(`unknown event type ${record.type}`);
    if (record.seq === 1 && record.type !== 'run-start') return fail('a journal must begin with run-start');
    prevHash = record.hash;
    expectedSeq += 1;
  }
  if (records.length === 0) return { ok: false, events: 0, seq: 0, type: 'none', problem: 'the run has no events' };
  return { ok: true, events: records.length, lastHash: prevHash };
}

const knownTypes: ReadonlySet<string> = new Set(eventTypes);
