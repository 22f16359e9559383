import type { JsonValue } from '../spec/index.ts';
import type { EventData, EventOf, EventType } from './events.ts';
import { journalSchemaVersion } from './events.ts';
import { hashRecord } from './hash.ts';

/** Stamps an event with its place in the chain: seq, time, predecessor hash and its own hash. */
export function sealEvent<Type extends EventType>(
  position: { runId: string; seq: number; prevHash: string },
  type: Type,
  data: EventData[Type],
  time: Date = new Date(),
): EventOf<Type> {
  const unsealed = {
    runId: position.runId,
    seq: position.seq,
    time: time.toISOString(),
    type,
    schemaVersion: journalSchemaVersion,
    prevHash: position.prevHash,
    data: data as unknown as JsonValue,
  };
  return { ...unsealed, hash: hashRecord(unsealed) } as unknown as EventOf<Type>;
}
