import { configure } from 'safe-stable-stringify';
import type { JournalRecordV1 } from '../spec/index.ts';

// Not an ES import: node:crypto's namespace loads Web Crypto into every CLI start that hashes
// (docs/architecture.md, CLI start-up).
const { hash } = process.getBuiltinModule('node:crypto');

/** The predecessor hash of every run's first event. */
export const genesisHash = '0'.repeat(64);

// For JSON values (finite numbers, no bigint), sorted-key ECMAScript JSON serialisation is exactly
// RFC 8785 canonical JSON; `strict` refuses anything else instead of guessing. A test checks it
// against a reference JCS implementation. It is chosen over that reference for speed: it runs on
// every journal append.
const stringify = configure({ deterministic: true, strict: true, bigint: false, circularValue: Error });

/** RFC 8785 canonical JSON, so a hash means the same on every machine and in every version. */
export function canonicalJson(value: unknown): string {
  const text = stringify(value);
  if (text === undefined) throw new TypeError('value cannot be represented as JSON');
  return text;
}

export function sha256(text: string): string {
  return hash('sha256', text, 'hex');
}

/** The hash of a record covers every field but the hash itself, including its predecessor's hash. */
export function hashRecord(record: Omit<JournalRecordV1, 'hash'>): string {
  return hashWithData(record, canonicalJson(record.data));
}

/**
 * The same hash when the data's canonical text is already known. The envelope's keys are fixed, so
 * its canonical form is written out in sorted key order (a test checks it against canonicalJson).
 */
export function hashWithData(record: Omit<JournalRecordV1, 'hash' | 'data'>, dataText: string): string {
  const text =
    `{"data":${dataText},"prevHash":${JSON.stringify(record.prevHash)},"runId":${JSON.stringify(record.runId)},` +
    `"schemaVersion":${integerText(record.schemaVersion)},"seq":${integerText(record.seq)},"time":${JSON.stringify(record.time)},"type":${JSON.stringify(record.type)}}`;
  return sha256(text);
}

// A safe integer's canonical JSON is its decimal digits; anything else takes the general path.
function integerText(value: number): string {
  return Number.isSafeInteger(value) ? String(value) : canonicalJson(value);
}
