import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { JournalRecordV1 } from '../spec/index.ts';

/** The predecessor hash of every run's first event. */
export const genesisHash = '0'.repeat(64);

/** RFC 8785 canonical JSON, so a hash means the same on every machine and in every version. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value cannot be represented as JSON');
  return text;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The hash of a record covers every field but the hash itself, including its predecessor's hash. */
export function hashRecord(record: Omit<JournalRecordV1, 'hash'>): string {
  return sha256(
    canonicalJson({
      runId: record.runId,
      seq: record.seq,
      time: record.time,
      type: record.type,
      schemaVersion: record.schemaVersion,
      prevHash: record.prevHash,
      data: record.data,
    }),
  );
}
