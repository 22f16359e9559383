import type { JsonValue } from '../spec/index.ts';
import type { EventData, EventOf, EventType } from './events.ts';
import { journalSchemaVersion } from './events.ts';
import { canonicalJson, hashWithData } from './hash.ts';

/**
 * Where a sealed event keeps the canonical text of its data, hidden (not enumerable: not part of
 * the event's JSON or of comparisons). A store writes this text instead of serialising the data
 * again, so the stored bytes are exactly the hashed bytes. A registered symbol: stores cannot
 * import the journal, and a record without it (built elsewhere) is serialised as before.
 */
const canonicalDataText = Symbol.for('keel.journal.canonical-data-text');

/** Stamps an event with its place in the chain: seq, time, predecessor hash and its own hash. */
export function sealEvent<Type extends EventType>(
  position: { runId: string; seq: number; prevHash: string },
  type: Type,
  data: EventData[Type],
  time: Date = new Date(),
): EventOf<Type> {
  return sealDataText(position, type, canonicalJson(data), time);
}

/**
 * The same, for data already in canonical text (`canonicalJson`): what a writer that defers sealing
 * keeps. `parsed`, when given, is what the text parses back to, in a copy no one else holds
 * (json-copy.ts): the event keeps it instead of parsing the text again.
 */
export function sealDataText<Type extends EventType>(
  position: { runId: string; seq: number; prevHash: string },
  type: Type,
  dataText: string,
  time: Date,
  parsed?: object,
): EventOf<Type> {
  const envelope = { runId: position.runId, seq: position.seq, time: isoTime(time), type, schemaVersion: journalSchemaVersion, prevHash: position.prevHash };
  // The event keeps a copy parsed back from the hashed text: exactly what the hash covers, and
  // beyond the reach of a caller that goes on mutating its objects before the append is written.
  const event = { ...envelope, data: (parsed ?? JSON.parse(dataText)) as JsonValue, hash: hashWithData(envelope, dataText) };
  Object.defineProperty(event, canonicalDataText, { value: dataText });
  return event as unknown as EventOf<Type>;
}

// Events sealed together are often stamped within the same millisecond: format each one once.
let lastTimeMs = Number.NaN;
let lastTimeText = '';

function isoTime(time: Date): string {
  const ms = time.getTime();
  if (ms !== lastTimeMs) {
    // Formatted first: an invalid date throws here, every time, as toISOString does.
    lastTimeText = time.toISOString();
    lastTimeMs = ms;
  }
  return lastTimeText;
}
