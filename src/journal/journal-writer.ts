import type { RunSummaryPatchV1, StoreV1 } from '../spec/index.ts';
import type { EventData, EventOf, EventType, JournalEvent } from './events.ts';
import { toRecord } from './parse.ts';
import { sealEvent } from './seal.ts';

/**
 * Builds a run's next events and appends them, fenced by the writer's lease. One writer per run
 * at a time: the store rejects a seq another writer already used, and a lease it no longer holds.
 */
export class JournalWriter {
  readonly runId: string;
  #lastSeq: number;
  #lastHash: string;
  readonly #store: StoreV1;
  readonly #leaseOwner: string | undefined;

  constructor(options: { store: StoreV1; runId: string; lastSeq: number; lastHash: string; leaseOwner?: string }) {
    this.#store = options.store;
    this.runId = options.runId;
    this.#lastSeq = options.lastSeq;
    this.#lastHash = options.lastHash;
    this.#leaseOwner = options.leaseOwner;
  }

  /** Seals the next event into the chain. It is not durable until `commit` resolves. */
  build<Type extends EventType>(type: Type, data: EventData[Type], time?: Date): EventOf<Type> {
    const event = sealEvent({ runId: this.runId, seq: this.#lastSeq + 1, prevHash: this.#lastHash }, type, data, time);
    this.#lastSeq = event.seq;
    this.#lastHash = event.hash;
    return event;
  }

  async commit(events: readonly JournalEvent[], summary: RunSummaryPatchV1 = {}): Promise<void> {
    const batch = { runId: this.runId, records: events.map(toRecord), summary };
    await this.#store.append(this.#leaseOwner === undefined ? batch : { ...batch, fence: { leaseOwner: this.#leaseOwner } });
  }
}
