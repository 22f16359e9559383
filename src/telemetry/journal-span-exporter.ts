/**
 * Tails the journal and sends each run's spans, keeping its place in the store (a cursor per
 * exporter name), so a restarted exporter neither loses nor repeats a span:
 *
 * - a batch is sent, the receiver's 2xx awaited, and only then the cursor advanced past it (one
 *   compare-and-set write). A process killed before that write sends the batch again when it
 *   restarts: the same spans, with the same ids and times, since both are derived from the journal.
 *   A process killed after it leaves nothing to send again.
 * - runs are found in the order their latest events were dated (the run index's updatedAt). Events
 *   are dated by the process that appends them, so appends can commit a little out of that order;
 *   each pass looks `lagMs` behind its last position, and the cursor keeps how far each run seen
 *   in that window (and each run not yet ended) was exported.
 * - one exporter per name works at a time: the cursor names its holder until a time; another takes
 *   over when that passes, or at once when the holder is a process of this machine that has died.
 */
import { KeelError } from '../errors/index.ts';
import type { JournalRecordV1, JsonValue, StoreV1, TelemetryCursorStoreV1 } from '../spec/index.ts';
import type { JournalSpan } from './journal-spans.ts';
import { journalSpans } from './journal-spans.ts';
import type { SpanSender } from './otlp-span-sender.ts';

export interface JournalSpanExporterOptions {
  store: StoreV1;
  sender: SpanSender;
  /** Whose cursor this is: exporters under one name share one place in the journal. Default `otlp`. */
  name?: string;
  /** This process's id as the cursor's holder. */
  holder: string;
  /** Most spans per request; default 512 (as OTEL_BSP_MAX_EXPORT_BATCH_SIZE). */
  maxBatchSpans?: number;
  /** How far behind its last position each pass looks again; default 10 s. */
  lagMs?: number;
  /** How long a holder's claim lasts without a write; default 30 s. */
  holdMs?: number;
  /** Runs read from the run index per query; default 200. */
  pageSize?: number;
  captureContent?: boolean;
  /** True when the holder is known to be dead (this machine's worker registry); default never. */
  isHolderDead?: (holder: string) => Promise<boolean>;
  /** Told after each acknowledged batch (tests watch it; an operator's log may too). */
  onBatch?: (batch: { spans: number; runs: number }) => void;
}

export interface ExportPass {
  spans: number;
  batches: number;
  /** Another live exporter holds the cursor; this one sent nothing. */
  standby: boolean;
}

interface RunProgress {
  /** Every span completed by an event up to this seq was acknowledged. */
  seq: number;
  updatedAt: string;
  ended: boolean;
}

interface TelemetryCursor {
  version: 1;
  holder: { id: string; untilMs: number } | null;
  /** The last run-index position a finished pass reached. */
  watermark: { updatedAt: string; id: string } | null;
  runs: Record<string, RunProgress>;
}

const emptyCursor: TelemetryCursor = { version: 1, holder: null, watermark: null, runs: {} };

export class JournalSpanExporter {
  readonly name: string;
  readonly #store: StoreV1;
  readonly #cursors: TelemetryCursorStoreV1;
  readonly #sender: SpanSender;
  readonly #holder: string;
  readonly #maxBatchSpans: number;
  readonly #lagMs: number;
  readonly #holdMs: number;
  readonly #pageSize: number;
  readonly #captureContent: boolean;
  readonly #isHolderDead: (holder: string) => Promise<boolean>;
  readonly #onBatch: JournalSpanExporterOptions['onBatch'];

  constructor(options: JournalSpanExporterOptions) {
    const cursors = options.store.telemetryCursors;
    if (cursors === undefined) throw new KeelError('config-invalid', `the store at ${options.store.location} keeps no telemetry cursors, so spans cannot be exported from it without loss or repeats`);
    this.name = options.name ?? 'otlp';
    this.#store = options.store;
    this.#cursors = cursors;
    this.#sender = options.sender;
    this.#holder = options.holder;
    this.#maxBatchSpans = positive(options.maxBatchSpans ?? 512, 'the batch size');
    this.#lagMs = options.lagMs ?? 10_000;
    this.#holdMs = options.holdMs ?? 30_000;
    this.#pageSize = options.pageSize ?? 200;
    this.#captureContent = options.captureContent === true;
    this.#isHolderDead = options.isHolderDead ?? (() => Promise.resolve(false));
    this.#onBatch = options.onBatch;
  }

  /** One pass: every span completed since the cursor, sent and acknowledged batch by batch. */
  async exportOnce(): Promise<ExportPass> {
    const pass: ExportPass = { spans: 0, batches: 0, standby: false };
    const stored = await this.#cursors.readCursor(this.name);
    const found = stored === undefined ? emptyCursor : parseCursor(this.name, stored);
    const now = Date.now();
    if (found.holder !== null && found.holder.id !== this.#holder && found.holder.untilMs > now && !(await this.#isHolderDead(found.holder.id))) return { ...pass, standby: true };
    let current: TelemetryCursor = { ...found, holder: { id: this.#holder, untilMs: now + this.#holdMs } };
    if (!(await this.#cursors.writeCursor(this.name, asJson(current), stored ?? null))) return { ...pass, standby: true };

    let batch: JournalSpan[] = [];
    let progress = new Map<string, RunProgress>();
    const flush = async () => {
      if (batch.length > 0) {
        await this.#sender.send(batch);
        pass.spans += batch.length;
        pass.batches += 1;
      }
      if (batch.length === 0 && progress.size === 0) return;
      const next: TelemetryCursor = { ...current, holder: { id: this.#holder, untilMs: Date.now() + this.#holdMs }, runs: { ...current.runs, ...Object.fromEntries(progress) } };
      await this.#advance(current, next);
      if (batch.length > 0) this.#onBatch?.({ spans: batch.length, runs: new Set(batch.map((span) => span.attributes['keel.run.id'])).size });
      current = next;
      batch = [];
      progress = new Map();
    };

    let after = current.watermark === null ? undefined : { updatedAt: new Date(Date.parse(current.watermark.updatedAt) - this.#lagMs).toISOString(), id: '' };
    let watermark = current.watermark;
    for (;;) {
      const page = await this.#cursors.listChangedRuns({ ...(after === undefined ? {} : { after }), limit: this.#pageSize });
      for (const run of page) {
        const exported = current.runs[run.id]?.seq ?? 0;
        if (run.lastSeq <= exported) continue;
        const records = await this.#store.readJournal(run.id);
        const last = records.at(-1);
        if (last === undefined) continue;
        const spans = journalSpans(records, { captureContent: this.#captureContent }).filter((span) => span.seq > exported);
        for (const group of bySeq(spans)) {
          if (batch.length > 0 && batch.length + group.length > this.#maxBatchSpans) await flush();
          batch.push(...group);
          progress.set(run.id, { seq: group[0]?.seq ?? exported, updatedAt: run.updatedAt, ended: false });
        }
        progress.set(run.id, { seq: last.seq, updatedAt: run.updatedAt, ended: endedIn(records) });
      }
      const end = page.at(-1);
      if (end !== undefined) {
        after = { updatedAt: end.updatedAt, id: end.id };
        if (watermark === null || end.updatedAt > watermark.updatedAt || (end.updatedAt === watermark.updatedAt && end.id > watermark.id)) watermark = after;
      }
      if (page.length < this.#pageSize) break;
    }
    await flush();
    const finished: TelemetryCursor = { ...current, watermark, runs: settledOut(current.runs, watermark, this.#lagMs) };
    await this.#advance(current, finished);
    return pass;
  }

  /** Passes until `signal` aborts, `intervalMs` apart; a failed pass is reported and tried again. */
  async run(options: { signal: AbortSignal; intervalMs: number; onError?: (error: unknown) => void }): Promise<void> {
    while (!options.signal.aborted) {
      try {
        await this.exportOnce();
      } catch (error) {
        options.onError?.(error);
      }
      await pause(options.intervalMs, options.signal);
    }
  }

  /** Gives the cursor up, so another exporter under this name may take it at once. */
  async release(): Promise<void> {
    const stored = await this.#cursors.readCursor(this.name);
    if (stored === undefined) return;
    const cursor = parseCursor(this.name, stored);
    if (cursor.holder?.id !== this.#holder) return;
    await this.#cursors.writeCursor(this.name, asJson({ ...cursor, holder: null }), stored);
  }

  async #advance(previous: TelemetryCursor, next: TelemetryCursor): Promise<void> {
    if (!(await this.#cursors.writeCursor(this.name, asJson(next), asJson(previous)))) {
      throw new KeelError('telemetry-cursor-conflict', `another exporter moved telemetry cursor ${this.name}; this one stops its pass and sends nothing more until it holds the cursor again`);
    }
  }
}

/** Spans completed by one event go in one batch, so the cursor can move past that event. */
function bySeq(spans: JournalSpan[]): JournalSpan[][] {
  const groups: JournalSpan[][] = [];
  for (const span of spans) {
    const group = groups.at(-1);
    if (group !== undefined && group[0]?.seq === span.seq) group.push(span);
    else groups.push([span]);
  }
  return groups;
}

function endedIn(records: readonly JournalRecordV1[]): boolean {
  return records.at(-1)?.type === 'run-end';
}

/** Ended runs whose position the next pass will not look at again need not be remembered. */
function settledOut(runs: Record<string, RunProgress>, watermark: TelemetryCursor['watermark'], lagMs: number): Record<string, RunProgress> {
  if (watermark === null) return runs;
  const horizon = Date.parse(watermark.updatedAt) - lagMs;
  return Object.fromEntries(Object.entries(runs).filter(([, progress]) => !progress.ended || Date.parse(progress.updatedAt) >= horizon));
}

function parseCursor(name: string, value: JsonValue): TelemetryCursor {
  const cursor = value as unknown as TelemetryCursor;
  if (typeof value !== 'object' || value === null || cursor.version !== 1 || typeof cursor.runs !== 'object') {
    throw new KeelError('db-unreadable', `telemetry cursor ${name} is not one this Keel wrote (version 1)`);
  }
  return cursor;
}

function asJson(cursor: TelemetryCursor): JsonValue {
  return cursor as unknown as JsonValue;
}

function positive(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new KeelError('config-invalid', `${what} must be a whole number of at least 1, got ${value}`);
  return value;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
