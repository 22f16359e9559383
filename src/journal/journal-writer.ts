import type { AppendBatchV1, RunSummaryPatchV1, StoreV1 } from '../spec/index.ts';
import type { EventData, EventOf, EventType, JournalEvent } from './events.ts';
import type { JsonSnapshot } from './json-copy.ts';
import { jsonSnapshot, snapshotText } from './json-copy.ts';
import { canonicalJson } from './hash.ts';
import { toRecord } from './parse.ts';
import { sealDataText } from './seal.ts';

/** Returns the event's data with its labelled payload fields sealed (src/redaction/run-sealer.ts). */
export type FieldSealer = <Type extends EventType>(type: Type, data: EventData[Type]) => EventData[Type];

// How long pipelined events may wait to be appended together (see `pipeline`). Each append is a
// transaction and an fdatasync whose fixed cost lands on the event loop and the machine's cores
// while calls are in flight: at c=1 on the loopback benchmark (~1 ms calls), 20 ms instead of 5
// cut a governed call's p50 by ~40 us and the process's CPU per call by ~100-190 us.
const pipelineFlushMs = 20;

// Data nested deeper than this is serialised at once (see `pipelineData`); a model call's request,
// its deepest event data, is 7 levels deep (input, request, messages, message, content, part).
const snapshotDepth = 32;

/** Told of a deferred event once it is sealed (see `pipelineData`); returns the run summary after it. */
export type SealedListener = (event: JournalEvent) => RunSummaryPatchV1;

/** An event numbered and snapshotted (its data's canonical text, or a complete copy of plain JSON data), not yet hashed into the chain. */
interface Draft {
  type: EventType;
  seq: number;
  time: Date;
  snapshot: string | JsonSnapshot;
  /** The data as the run works with it, when field sealing changed it for the journal. */
  unsealed: unknown;
  sealed: SealedListener;
}

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
  readonly #inflight = new Set<Promise<void>>();
  #failure: Error | undefined;
  /** Seals labelled payload fields before the event is hashed (src/redaction), so the chain covers the sealed form. */
  readonly #seal: FieldSealer | undefined;
  /** The data of events built here before sealing: what the run itself goes on working with. */
  readonly #unsealed = new WeakMap<JournalEvent, unknown>();
  /** Pipelined events not yet handed to the store, and their summaries merged, later over earlier. */
  #buffered: JournalEvent[] = [];
  #bufferedSummary: RunSummaryPatchV1 = {};
  #flushTimer: NodeJS.Timeout | undefined;
  /** Deferred events (`pipelineData`), in seq order: sealed before any later event is built or anything is appended. */
  #drafts: Draft[] = [];

  constructor(options: { store: StoreV1; runId: string; lastSeq: number; lastHash: string; leaseOwner?: string; seal?: FieldSealer }) {
    this.#store = options.store;
    this.runId = options.runId;
    this.#lastSeq = options.lastSeq;
    this.#lastHash = options.lastHash;
    this.#leaseOwner = options.leaseOwner;
    this.#seal = options.seal;
  }

  /** Seals the next event into the chain. It is not durable until `commit` resolves. */
  build<Type extends EventType>(type: Type, data: EventData[Type], time: Date = new Date()): EventOf<Type> {
    this.#sealDrafts();
    const sealed = this.#seal === undefined ? data : this.#seal(type, data);
    const event = sealDataText({ runId: this.runId, seq: this.#lastSeq + 1, prevHash: this.#lastHash }, type, canonicalJson(sealed), time);
    if (sealed !== data) this.#unsealed.set(event, data);
    this.#lastSeq = event.seq;
    this.#lastHash = event.hash;
    return event;
  }

  /**
   * Builds the next event and pipelines it (as `build` then `pipeline`), doing now only what
   * cannot wait: its number, its time, its payload fields sealed and a snapshot of its data, so a
   * caller that goes on mutating its objects cannot change what is journaled: for plain JSON data
   * (json-copy.ts: the usual shape of every event of a model call) a copy whose canonical text
   * waits (and becomes the event's data: it is what that text parses back to), else its canonical
   * text. Hashing it into the chain (and parsing text back) wait until it must be sealed: before any
   * later event is built, and before anything is handed to the store. `sealed` is then told of
   * the event (as the run works with it) and returns the run summary after it. For the events
   * of a model call this takes the chain's work off the call's path: it runs when the batch is
   * flushed, while later calls wait on their provider.
   */
  pipelineData<Type extends EventType>(type: Type, data: EventData[Type], sealed: SealedListener, time: Date = new Date()): void {
    this.#throwIfFailed();
    const journaled = this.#seal === undefined ? data : this.#seal(type, data);
    const snapshot = jsonSnapshot(journaled, snapshotDepth) ?? canonicalJson(journaled);
    this.#lastSeq += 1;
    this.#drafts.push({ type, seq: this.#lastSeq, time, snapshot, unsealed: journaled === data ? undefined : data, sealed });
    this.#flushTimer ??= setTimeout(() => this.#flushBuffered(), pipelineFlushMs);
  }

  /** Seals the deferred events in order into the chain and the pipelined batch. */
  #sealDrafts(): void {
    if (this.#drafts.length === 0) return;
    const drafts = this.#drafts;
    this.#drafts = [];
    for (const draft of drafts) {
      const dataText = typeof draft.snapshot === 'string' ? draft.snapshot : snapshotText(draft.snapshot);
      const event = sealDataText({ runId: this.runId, seq: draft.seq, prevHash: this.#lastHash }, draft.type, dataText, draft.time, typeof draft.snapshot === 'string' ? undefined : draft.snapshot.data);
      if (draft.unsealed !== undefined) this.#unsealed.set(event, draft.unsealed);
      this.#lastHash = event.hash;
      this.#buffered.push(event);
      Object.assign(this.#bufferedSummary, draft.sealed(this.readable(event)));
    }
  }

  /** The event as the run works with it: its own data where payload fields were sealed for the journal. */
  readable<Event extends JournalEvent>(event: Event): Event {
    const data = this.#unsealed.get(event);
    return data === undefined ? event : { ...event, data };
  }

  /**
   * Appends and resolves once these events, and every event before them, are durable; with
   * `deferSync`, once committed (see AppendBatchV1.deferSync).
   */
  async commit(events: readonly JournalEvent[], summary: RunSummaryPatchV1 = {}, options: { deferSync?: boolean } = {}): Promise<void> {
    this.#throwIfFailed();
    // Pipelined events still waiting go first, in the same append: one group, one sync.
    const waiting = this.#takeBuffered();
    const deferSync = options.deferSync === true;
    await (waiting === undefined ? this.#append(events, summary, deferSync) : this.#append([...waiting.events, ...events], { ...waiting.summary, ...summary }, deferSync));
    // The store applies a run's appends in order, so the pipelined ones before this have settled.
    await this.settle();
  }

  /**
   * Appends without waiting for durability, for events a crash may lose because what they record
   * is safe to redo. The next `commit` waits for them and reports their failure.
   *
   * They are handed to the store together, up to `pipelineFlushMs` later or with the next commit,
   * whichever comes first: a model call's step-start, route and budget decisions, attempt and
   * step-end then cost one append and a share of one group commit and fdatasync, instead of one
   * commit during the call and another after. Their append still starts an fdatasync (off the
   * event loop). Measured without it (the WAL synced only by the next awaited write): a governed
   * call at c=1 spent 3-8 ms instead of ~1 ms between its request and the answer on a loaded
   * machine, likely the kernel throttling the commits' own writes as unsynced WAL pages piled up. What waits for durability is
   * unchanged: nothing waited for these before either, and a crash loses the same kind of events
   * as before (ones not yet durable), over a window up to `pipelineFlushMs` longer: with real
   * providers (calls of a second or more) at most the last call's events, which is redone.
   */
  pipeline(events: readonly JournalEvent[], summary: RunSummaryPatchV1 = {}): void {
    this.#throwIfFailed();
    for (const event of events) this.#buffered.push(event);
    Object.assign(this.#bufferedSummary, summary);
    this.#flushTimer ??= setTimeout(() => this.#flushBuffered(), pipelineFlushMs);
  }

  /** Hands every pipelined event to the store and waits for them; throws the first failure among them. */
  async settle(): Promise<void> {
    this.#flushBuffered();
    await Promise.all(this.#inflight);
    this.#throwIfFailed();
  }

  #takeBuffered(): { events: JournalEvent[]; summary: RunSummaryPatchV1 } | undefined {
    this.#sealDrafts();
    if (this.#flushTimer !== undefined) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    if (this.#buffered.length === 0) return undefined;
    const taken = { events: this.#buffered, summary: this.#bufferedSummary };
    this.#buffered = [];
    this.#bufferedSummary = {};
    return taken;
  }

  #flushBuffered(): void {
    const waiting = this.#takeBuffered();
    if (waiting === undefined) return;
    const pending: Promise<void> = this.#append(waiting.events, waiting.summary)
      .catch((error: unknown) => {
        this.#failure ??= error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => this.#inflight.delete(pending));
    this.#inflight.add(pending);
  }

  #append(events: readonly JournalEvent[], summary: RunSummaryPatchV1, deferSync = false): Promise<void> {
    const batch: AppendBatchV1 = { runId: this.runId, records: events.map(toRecord), summary };
    if (deferSync) batch.deferSync = true;
    return this.#store.append(this.#leaseOwner === undefined ? batch : { ...batch, fence: { leaseOwner: this.#leaseOwner } });
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }
}
