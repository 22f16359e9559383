import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { KeelError } from '../../errors/index.ts';
import type {
  AppendBatchV1,
  ClaimRequestV1,
  JournalRecordV1,
  JsonValue,
  NewRunV1,
  RunQueryV1,
  RunRecordV1,
  RunStatusV1,
  LeaseRenewalV1,
  MemoryEntryV1,
  MemoryReadOptionsV1,
  MemoryReplacedV1,
  MemoryReplacementV1,
  MemoryScopeV1,
  NewMemoryEntryV1,
  RunSummaryPatchV1,
  SpendQueryV1,
  SpendRowV1,
  StopRequestV1,
  StoreV1,
} from '../../spec/index.ts';
import { appendEndsLease } from '../lease-handback.ts';
import { checkRunQueryPeriod } from '../period.ts';
import { checkRunTagFilter, checkRunTags } from '../run-tags.ts';
import { checkSpendQuery } from '../spend-query.ts';
import type { CheckedSpendQuery } from '../spend-query.ts';
import { checkNewEntry, memoryKey, readLimit, sameKey, toMemoryEntry } from '../memory-scope.ts';
import type { MemoryKey } from '../memory-scope.ts';
import { openDatabase } from './open-database.ts';
import type { SqliteDurability } from './open-database.ts';
import { SqliteAuditLog } from './sqlite-audit-log.ts';
import { SqliteBreakerStates } from './sqlite-breaker-states.ts';
import { SqliteConcurrencySlots } from './sqlite-concurrency-slots.ts';
import { SqliteBudgetBook } from './sqlite-budget-book.ts';
import { SqliteDatasets } from './sqlite-datasets.ts';
import { SqliteRateLimiter } from './sqlite-rate-limiter.ts';
import { SqliteKeyStore } from './sqlite-key-store.ts';
import { SqliteTelemetryCursors } from './sqlite-telemetry-cursors.ts';
import { SqliteResponseCache } from './sqlite-response-cache.ts';
import { SqliteSubjectKeys } from './sqlite-subject-keys.ts';
import { SqliteRunRetention } from './sqlite-run-retention.ts';
import { WalSync } from './wal-sync.ts';
import { MultiRowStatement } from './multi-row-statement.ts';
import { WalCheckpointer } from './wal-checkpointer.ts';

export interface SqliteStoreOptions {
  path: string;
  /** Create the database when missing, or adopt an empty file (default true). */
  create?: boolean;
  /** Open for reading only: never creates, migrates or writes (see open-database.ts). Read commands pass true. */
  readOnly?: boolean;
  /**
   * `full`: an append resolves once it is fsynced (survives power loss). `normal`: once it is in
   * the WAL (survives a killed process, not a power cut). Default `full`.
   */
  durability?: SqliteDurability;
  /**
   * How long, in ms, a run's totals (step count, tokens, cost) and its place in the span exporter's
   * order may lag its journal in other processes while its status stays the same; 0 writes them
   * with every append. Heads (last seq, hash, time) never lag: they are read from the journal.
   * Default 50.
   */
  progressLagMs?: number;
  /** The clock, in ms, the progress lag is measured on: performance.now() unless a test drives it. */
  now?: () => number;
  /**
   * After how many group commits this store moves WAL checkpoints off the event loop, onto a
   * thread of its own (wal-checkpointer.ts); default 1,000, 0 at the first commit. A store opened
   * for reading, or in memory, never does.
   */
  checkpointAfterCommits?: number;
}

type Row = Record<string, SQLInputValue>;

type Pending =
  | { kind: 'append'; batch: AppendBatchV1; resolve: () => void; reject: (error: unknown) => void }
  | { kind: 'create'; newRun: NewRunV1; resolve: () => void; reject: (error: unknown) => void }
  /** Budgets, limits, keys, memory and the rest: work run inside the group, under a savepoint of its own. */
  | { kind: 'work'; work: () => unknown; sync: boolean; value?: unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void };

const defaultClaimable: RunStatusV1[] = ['queued', 'running'];
// The journal's sealEvent keeps the canonical text of an event's data under this registered symbol:
// written as it is, the stored bytes are the hashed bytes and the data is not serialised twice.
const canonicalDataText = Symbol.for('keel.journal.canonical-data-text');
// Runs being written at once by this process; past this the remembered heads start over.
const headCacheLimit = 4_096;
const defaultProgressLagMs = 50;
const defaultCheckpointAfterCommits = 1_000;
// With the checkpoint thread running, the writer's own automatic checkpoint is only a backstop:
// SQLite's default is 1,000 pages (4 MB).
const backstopCheckpointPages = 16_000;

/** What an append checks a run against: its key, status, last seq and lease, as committed. */
interface RunHead {
  key: number;
  storedStatus: string;
  lastSeq: number;
  leaseOwner: string | null;
  leaseExpiresMs: number | null;
}

/** A run's progress not yet written to its row: the latest event, and the summary's latest totals. */
interface DeferredProgress {
  runId: string;
  key: number;
  seq: number;
  hash: string;
  time: string;
  summary: RunSummaryPatchV1;
}

/**
 * A run as this connection's last commit left it (its head), and as the group being committed
 * leaves it. One object per run, kept between groups in #heads: a group changes it in place instead
 * of copying it, and a group that fails forgets every head (#commitGroup).
 */
interface RunCursor extends RunHead {
  runId: string;
  /** The group that last touched this run (#groupNumber); the fields below belong to that group. */
  group: number;
  /** An append of the group handed the run back (see lease-handback.ts): clear its lease. */
  endLease: boolean;
  /**
   * The group's summaries for this run, later fields overriding earlier ones: the first append's
   * own summary object until a second append of the run in the group merges into a copy.
   */
  summary: RunSummaryPatchV1;
  ownSummary: boolean;
  last: JournalRecordV1 | undefined;
}

const noSummary: RunSummaryPatchV1 = Object.freeze({});

/**
 * The embedded default store. node:sqlite is synchronous, so group commit is done here: every
 * write issued while the event loop is busy joins one transaction, and in `full` durability one
 * off-thread fdatasync acknowledges every transaction committed before it started.
 */
export class SqliteStore implements StoreV1 {
  readonly specificationVersion = 'v1';
  readonly dialect = 'sqlite';
  readonly location: string;
  /** Counters for benchmarks and tests: how well group commit is batching. */
  readonly stats = { transactions: 0, writes: 0 };
  /** Budget accounts shared by every process on this file. */
  readonly budgets: SqliteBudgetBook;
  /** The Merkle log of run checkpoints and its signed tree heads. */
  readonly auditLog: SqliteAuditLog;
  /** Rate-limit windows and breaker state shared by every process on this file. */
  readonly rateLimits: SqliteRateLimiter;
  readonly breakers: SqliteBreakerStates;
  /** Concurrency-limit (bulkhead) slots shared by every process on this file. */
  readonly concurrency: SqliteConcurrencySlots;
  /** The gateway's virtual keys. */
  readonly keys: SqliteKeyStore;
  /** Evaluation datasets pinned from the journal. */
  readonly datasets: SqliteDatasets;
  /** Where telemetry exporters keep their place in the journal. */
  readonly telemetryCursors: SqliteTelemetryCursors;
  /** Answers the gateway's cache keeps for every process on this file. */
  readonly responseCache: SqliteResponseCache;
  /** Per-subject keys sealing labelled payload fields, and their redactions. */
  readonly subjectKeys: SqliteSubjectKeys;
  /** Deletion of ended runs past their retention period. */
  readonly retention: SqliteRunRetention;

  readonly #database: DatabaseSync;
  readonly #statements: ReturnType<typeof prepareStatements>;
  readonly #walSync: WalSync | undefined;
  #pending: Pending[] = [];
  #flushScheduled = false;
  /**
   * The heads of runs this connection is appending to, as its last commit left them, so a group
   * need not read each run's row again. Trusted only while no other connection has committed
   * (SQLite's data_version, read under the write lock) and dropped by this connection's own lease
   * and claim updates; a run that ends, waits or is handed back is forgotten.
   */
  readonly #heads = new Map<string, RunCursor>();
  /** Numbers the groups, so a cursor knows whether the group being committed has touched it. */
  #groupNumber = 0;
  /** The fdatasync the last commit of the group being flushed started, for #flush to answer on. */
  #syncing: Promise<void> | undefined;
  #dataVersion = -1;
  #closed = false;
  /**
   * Appends that leave a run's status as it is do not update its row each time: moving the row and
   * its (updated_at, id) index entry on every append cost as much as the journal insert itself.
   * Their progress is kept here and written with the first group at least #progressLagMs after the
   * last such write, or by a timer when no group comes. The journal stays the truth: every read
   * takes a run's last seq and hash from it (see #runRecord); only the totals and updated_at lag,
   * by #progressLagMs in other processes, and until the run's next write after a process died
   * before writing them.
   */
  readonly #progress = new Map<number, DeferredProgress>();
  readonly #progressLagMs: number;
  readonly #now: () => number;
  readonly #checkpointAfterCommits: number | undefined;
  #checkpointer: WalCheckpointer | undefined;
  #progressWrittenAt: number;
  #progressTimer: NodeJS.Timeout | undefined;
  /** summarizeSpend's statement for each group column, prepared at its first use: most stores never run one. */
  readonly #spendStatements = new Map<CheckedSpendQuery['column'], StatementSync>();
  /** Inserts a run's tag; prepared with the first run created with tags. */
  #insertTag: StatementSync | undefined;

  private constructor(database: DatabaseSync, location: string, walSync: WalSync | undefined, progressLagMs: number, now: () => number, checkpointAfterCommits: number | undefined, readOnly: boolean) {
    this.#database = database;
    this.#checkpointAfterCommits = checkpointAfterCommits;
    this.#progressLagMs = progressLagMs;
    this.#now = now;
    // A read-only store commits nothing, so has no progress to time; the global `performance` loads
    // perf_hooks (~1 ms) at first touch, which read commands need not pay.
    this.#progressWrittenAt = readOnly ? 0 : now();
    this.location = location;
    this.#walSync = walSync;
    this.#statements = prepareStatements(database);
    this.budgets = new SqliteBudgetBook(database, { write: (work) => this.#memoryWrite(work), settle: (work) => this.#memoryWrite(work, { sync: false }), read: (work) => this.#read(work) });
    this.auditLog = new SqliteAuditLog(database, { write: (work) => this.#memoryWrite(work), read: (work) => this.#read(work) });
    // Rate-limit hits and breaker states guard a provider, not money or records: a power loss that
    // drops the last few costs at most a few calls too many, so their commits wait for no fdatasync.
    this.rateLimits = new SqliteRateLimiter(database, { write: (work) => this.#memoryWrite(work, { sync: false }) });
    this.breakers = new SqliteBreakerStates(database, { write: (work) => this.#memoryWrite(work, { sync: false }), read: (work) => this.#read(work) });
    // Slots are leases that lapse on their own: a power loss that drops one loses nothing, so they wait for no sync.
    this.concurrency = new SqliteConcurrencySlots(database, { write: (work) => this.#memoryWrite(work, { sync: false }) });
    this.keys = new SqliteKeyStore(database, { write: (work) => this.#memoryWrite(work), read: (work) => this.#read(work) });
    this.datasets = new SqliteDatasets(database, { write: (work) => this.#memoryWrite(work), read: (work) => this.#read(work) });
    this.telemetryCursors = new SqliteTelemetryCursors(database, { write: (work) => this.#memoryWrite(work), read: (work) => this.#read(work) });
    // A cache entry lost to a power cut costs one model call, never a wrong answer: no sync to wait for.
    this.responseCache = new SqliteResponseCache(database, { write: (work) => this.#memoryWrite(work, { sync: false }), read: (work) => this.#read(work) });
    this.subjectKeys = new SqliteSubjectKeys(database, { write: (work) => this.#memoryWrite(work), read: (work) => this.#read(work) });
    this.retention = new SqliteRunRetention(database, { write: (work) => this.#memoryWrite(work) });
  }

  static open(options: SqliteStoreOptions): SqliteStore {
    const readOnly = options.readOnly === true;
    const database = openDatabase({ path: options.path, create: !readOnly && (options.create ?? true), readOnly });
    const durable = (options.durability ?? 'full') === 'full' && options.path !== ':memory:' && !readOnly;
    const progressLagMs = options.progressLagMs ?? defaultProgressLagMs;
    if (!Number.isSafeInteger(progressLagMs) || progressLagMs < 0 || progressLagMs > 3_600_000) {
      database.close();
      throw new KeelError('config-invalid', `progressLagMs must be a whole number of milliseconds from 0 to 3600000, got ${progressLagMs}`);
    }
    const checkpointAfterCommits = options.checkpointAfterCommits ?? defaultCheckpointAfterCommits;
    if (!Number.isSafeInteger(checkpointAfterCommits) || checkpointAfterCommits < 0) {
      database.close();
      throw new KeelError('config-invalid', `checkpointAfterCommits must be a whole number, 0 or more, got ${checkpointAfterCommits}`);
    }
    const checkpoints = readOnly || options.path === ':memory:' ? undefined : checkpointAfterCommits;
    return new SqliteStore(database, options.path, durable ? new WalSync(`${options.path}-wal`) : undefined, progressLagMs, options.now ?? (() => performance.now()), checkpoints, readOnly);
  }

  /** WAL checkpoints the checkpoint thread made that copied pages (0 until it starts). */
  get checkpoints(): number {
    return this.#checkpointer?.checkpoints ?? 0;
  }

  #startCheckpointer(): void {
    this.#database.exec(`PRAGMA wal_autocheckpoint = ${backstopCheckpointPages}`);
    this.#checkpointer = new WalCheckpointer({ path: this.location });
  }

  /** fdatasync calls made for group commit (0 in `normal` durability). */
  get syncs(): number {
    return this.#walSync?.syncs ?? 0;
  }

  createRun(newRun: NewRunV1): Promise<void> {
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'create', newRun, resolve, reject }));
  }

  append(batch: AppendBatchV1): Promise<void> {
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'append', batch, resolve, reject }));
  }

  #enqueue(pending: Pending): void {
    if (this.#closed) {
      pending.reject(new KeelError('db-unavailable', `store ${this.location} is closed`));
      return;
    }
    this.#pending.push(pending);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    this.#syncing = undefined;
    const group = this.#pending;
    this.#pending = [];
    if (group.length === 0) return;
    let outcomes: (KeelError | undefined)[];
    try {
      outcomes = this.#commitGroup(group);
    } catch {
      // Something failed that validation did not foresee (a constraint, a full disk): the group was
      // rolled back whole, so write each item alone and let only the culprit fail.
      outcomes = group.map((pending) => {
        try {
          return this.#commitGroup([pending])[0];
        } catch (error) {
          return new KeelError('db-unavailable', `cannot commit to ${this.location}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
      });
    }
    // Refusals are answered at once; without a sync to wait for, so is everything else. A write
    // with deferSync is answered on commit: every later write's sync covers it (one WAL).
    const walSync = this.#walSync;
    let waiting = 0;
    for (let index = 0; index < group.length; index += 1) {
      const pending = group[index] as Pending;
      const outcome = outcomes[index];
      if (outcome !== undefined) pending.reject(outcome);
      else if (walSync === undefined || !waitsForSync(pending)) answer(pending);
      else waiting += 1;
    }
    if (walSync === undefined || waiting === 0) return;
    // Usually the whole group waits: then the group is the list of those waiting.
    const durable = waiting === group.length ? group : group.filter((pending, index) => outcomes[index] === undefined && waitsForSync(pending));
    const synced = this.#syncing ?? walSync.whenDurable();
    this.#syncing = undefined;
    synced.then(
      () => {
        for (let index = 0; index < durable.length; index += 1) answer(durable[index] as Pending);
      },
      (failure: unknown) => {
        for (const pending of durable) pending.reject(failure);
      },
    );
  }

  /**
   * One transaction for the whole group. Each write is validated against the runs as the group
   * has left them before it touches anything, so a refused write needs no savepoint to undo. A
   * run's index row is updated once per group however many of its appends the group holds, and
   * the group's journal rows are inserted by multi-row statements (multi-row-statement.ts).
   */
  #commitGroup(group: Pending[]): (KeelError | undefined)[] {
    const outcomes: (KeelError | undefined)[] = [];
    const touched: RunCursor[] = [];
    const insertRecords = this.#statements.insertRecords;
    const groupNumber = (this.#groupNumber += 1);
    const walSync = this.#walSync;
    let needsSync = false;
    let now: number;
    let due: boolean;
    // Never in the middle of a group: a run's second append would read a head its first has not written.
    if (this.#heads.size >= headCacheLimit) this.#heads.clear();
    this.#statements.begin.run();
    try {
      const dataVersion = Number(this.#statements.dataVersion.get()?.data_version);
      if (dataVersion !== this.#dataVersion) {
        this.#heads.clear();
        this.#dataVersion = dataVersion;
      }
      for (let index = 0; index < group.length; index += 1) {
        const pending = group[index] as Pending;
        let outcome: KeelError | undefined;
        if (pending.kind === 'append') outcome = this.#applyAppend(pending.batch, touched);
        else if (pending.kind === 'create') outcome = this.#applyCreate(pending.newRun);
        else outcome = this.#applyWork(pending);
        outcomes.push(outcome);
        if (outcome === undefined && !needsSync) needsSync = walSync !== undefined && waitsForSync(pending);
      }
      // A duplicate (run, seq) fails here, so the whole group, and #flush retries it write by write.
      insertRecords.run();
      now = this.#now();
      due = now - this.#progressWrittenAt >= this.#progressLagMs;
      for (let index = 0; index < touched.length; index += 1) {
        const cursor = touched[index] as RunCursor;
        if (cursor.last !== undefined && (due || changesRunRow(cursor))) this.#saveCursor(cursor);
      }
      if (due) {
        for (const progress of this.#progress.values()) {
          // A run this group appended to had them written with its append (#saveCursor); one whose
          // every append here was refused has none to carry them, and all are forgotten at commit.
          const head = this.#heads.get(progress.runId);
          if (head?.group !== groupNumber || head.last === undefined) this.#writeProgress(progress);
        }
      }
      this.#statements.commit.run();
    } catch (error) {
      insertRecords.discard();
      this.#heads.clear();
      if (this.#database.isTransaction) this.#statements.rollback.run();
      throw error;
    }
    // The WAL's fdatasync starts at once, on the thread pool: it runs while this thread does the
    // group's bookkeeping below, instead of after it.
    if (needsSync && walSync !== undefined) this.#syncing = walSync.whenDurable();
    if (due) {
      this.#progress.clear();
      this.#progressWrittenAt = now;
    }
    for (let index = 0; index < touched.length; index += 1) {
      const cursor = touched[index] as RunCursor;
      if (!due && cursor.last !== undefined) {
        if (changesRunRow(cursor)) this.#progress.delete(cursor.key);
        else this.#deferProgress(cursor);
      }
      this.#rememberHead(cursor);
    }
    if (!due) this.#scheduleProgress();
    this.stats.transactions += 1;
    this.stats.writes += group.length;
    if (this.#checkpointer === undefined && this.#checkpointAfterCommits !== undefined && this.stats.transactions > this.#checkpointAfterCommits) this.#startCheckpointer();
    return outcomes;
  }

  /**
   * Work sees the writes queued before it, as it would have in a transaction of its own: the
   * group's journal rows so far are inserted first. A failing work is undone alone (its savepoint)
   * and the rest of the group commits.
   */
  #applyWork(pending: Extract<Pending, { kind: 'work' }>): KeelError | undefined {
    this.#statements.insertRecords.run();
    this.#statements.savepoint.run();
    try {
      pending.value = pending.work();
      this.#statements.releaseSavepoint.run();
      return undefined;
    } catch (error) {
      this.#statements.rollbackToSavepoint.run();
      this.#statements.releaseSavepoint.run();
      return error instanceof KeelError ? error : new KeelError('db-unavailable', `${this.location}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  #applyCreate(newRun: NewRunV1): KeelError | undefined {
    const { run, first, lease } = newRun;
    let tags: [string, string][];
    try {
      tags = checkRunTags(run.tags);
    } catch (error) {
      return error as KeelError;
    }
    if (this.#statements.runHead.get(run.id) !== undefined) return new KeelError('run-exists', `run ${run.id} already exists`);
    const leaseExpiresMs = lease === undefined ? null : Date.now() + lease.leaseMs;
    const { lastInsertRowid: runKey } = this.#statements.insertRun.run({
      id: run.id,
      task: run.task,
      task_version: run.taskVersion,
      principal: run.principal,
      tenant: run.tenant,
      status: run.status,
      created_at: first.time,
      last_seq: first.seq,
      last_hash: first.hash,
      lease_owner: lease?.owner ?? null,
      lease_expires_ms: leaseExpiresMs,
    });
    pushRecord(this.#statements.insertRecords, runKey, first);
    if (tags.length > 0) {
      const insertTag = (this.#insertTag ??= this.#database.prepare('INSERT INTO run_tags (run_key, name, value, created_at) VALUES (?, ?, ?, ?)'));
      for (const [name, value] of tags) insertTag.run(runKey, name, value, first.time);
    }
    // A run created leased is appended to next by its creator, often in this same group (its
    // run-resume, see Engine.start): its head is remembered, so that append reads no row. Read in
    // this group, the row would miss the run-start still waiting in insertRecords. A queued run's
    // next append follows a claim, which forgets heads anyway.
    if (lease === undefined || leaseExpiresMs === null) return undefined;
    this.#heads.set(run.id, {
      runId: run.id,
      key: Number(runKey),
      storedStatus: run.status,
      lastSeq: first.seq,
      leaseOwner: lease.owner,
      leaseExpiresMs,
      group: 0,
      endLease: false,
      summary: noSummary,
      ownSummary: false,
      last: undefined,
    });
    return undefined;
  }

  #applyAppend(batch: AppendBatchV1, touched: RunCursor[]): KeelError | undefined {
    const { runId, records, summary } = batch;
    let cursor = this.#heads.get(runId);
    if (cursor === undefined) {
      cursor = this.#readHead(runId);
      if (cursor === undefined) return new KeelError('run-not-found', `run ${runId} not found`);
      this.#heads.set(runId, cursor);
    }
    if (cursor.group !== this.#groupNumber) {
      cursor.group = this.#groupNumber;
      cursor.endLease = false;
      cursor.summary = noSummary;
      cursor.ownSummary = false;
      cursor.last = undefined;
      touched.push(cursor);
    }
    if (batch.fence !== undefined) {
      const held = cursor.leaseOwner === batch.fence.leaseOwner && cursor.leaseExpiresMs !== null && cursor.leaseExpiresMs >= Date.now();
      if (!held) return new KeelError('lease-lost', `worker ${batch.fence.leaseOwner} no longer holds the lease on run ${runId}`);
    }
    const last = records[records.length - 1];
    if (last === undefined) {
      return Object.keys(summary).length > 0 ? new KeelError('journal-invalid', `append to run ${runId} has a summary but no records`) : undefined;
    }
    const first = cursor.lastSeq + 1;
    for (let index = 0; index < records.length; index += 1) {
      const record = records[index] as JournalRecordV1;
      if (record.runId !== runId || record.seq !== first + index) {
        return new KeelError('journal-conflict', `run ${runId}: expected seq ${first + index}, got ${record.seq} (another writer appended, or the batch is not contiguous)`);
      }
    }
    const insertRecords = this.#statements.insertRecords;
    for (let index = 0; index < records.length; index += 1) pushRecord(insertRecords, cursor.key, records[index] as JournalRecordV1);
    cursor.lastSeq = last.seq;
    cursor.last = last;
    // The first append's summary is read as it is; a second one of the run merges into a copy.
    if (cursor.summary === noSummary) cursor.summary = summary;
    else {
      if (!cursor.ownSummary) {
        cursor.summary = mergeSummary({}, cursor.summary);
        cursor.ownSummary = true;
      }
      mergeSummary(cursor.summary, summary);
    }
    if (appendEndsLease(summary.status)) {
      // Later fenced appends in this group must see the lease gone, as they would after a commit.
      cursor.leaseOwner = null;
      cursor.leaseExpiresMs = null;
      cursor.endLease = true;
    }
    return undefined;
  }

  #readHead(runId: string): RunCursor | undefined {
    const head = this.#statements.runHead.get(runId);
    if (head === undefined) return undefined;
    return {
      runId,
      key: Number(head.key),
      storedStatus: text(head.status),
      lastSeq: Number(head.last_seq),
      leaseOwner: nullableText(head.lease_owner),
      leaseExpiresMs: head.lease_expires_ms === null ? null : Number(head.lease_expires_ms),
      group: 0,
      endLease: false,
      summary: noSummary,
      ownSummary: false,
      last: undefined,
    };
  }

  /** After a commit: the run's head is as the group left it; forgotten once the run has left this writer. */
  #rememberHead(cursor: RunCursor): void {
    const storedStatus = cursor.summary.status ?? cursor.storedStatus;
    cursor.storedStatus = storedStatus;
    // Nothing of the group is kept: not the caller's summary object, not the last record.
    cursor.summary = noSummary;
    cursor.last = undefined;
    if (cursor.endLease || appendEndsLease(storedStatus as RunStatusV1)) this.#heads.delete(cursor.runId);
  }

  #saveCursor(cursor: RunCursor): void {
    const { last } = cursor;
    if (last === undefined) return;
    // Totals an earlier, deferred append of this run carried are written with this one.
    const earlier = this.#deferredOf(cursor.key, cursor.runId);
    const summary = earlier === undefined ? cursor.summary : mergeSummary({ ...earlier.summary }, cursor.summary);
    // Positional parameters, in progressColumns' order: binding by name costs a lookup per column.
    const reasonSet = summary.reason === undefined ? 0 : 1;
    const reason = summary.reason ?? null;
    const stepCount = summary.stepCount ?? null;
    const inputTokens = summary.inputTokens ?? null;
    const outputTokens = summary.outputTokens ?? null;
    const costMicros = summary.costMicros ?? null;
    // Status is indexed (claims scan by it): touch it only when it changes.
    if (summary.status === undefined || summary.status === cursor.storedStatus) {
      this.#statements.updateProgress.run(last.seq, last.hash, last.time, reasonSet, reason, stepCount, inputTokens, outputTokens, costMicros, cursor.key);
    } else {
      this.#statements.updateProgressAndStatus.run(summary.status, last.seq, last.hash, last.time, reasonSet, reason, stepCount, inputTokens, outputTokens, costMicros, cursor.key);
    }
    if (cursor.endLease) this.#statements.endLease.run(cursor.key);
  }

  /** A deferred run's progress, written only to that run's row (its key and id) and only if no later write of the run (another process's) got there first. */
  #writeProgress(progress: DeferredProgress): void {
    const { summary } = progress;
    this.#statements.updateDeferredProgress.run(
      progress.seq,
      progress.hash,
      progress.time,
      summary.stepCount ?? null,
      summary.inputTokens ?? null,
      summary.outputTokens ?? null,
      summary.costMicros ?? null,
      progress.key,
      progress.runId,
      progress.seq,
    );
  }

  /**
   * The run's deferred progress, if the entry on its key is its own. Keys are rowids: once retention
   * deletes the run holding the highest, the next run created takes its key, and what this process
   * still defers for the deleted run must not be read as, merged into or written over the new one's.
   */
  #deferredOf(key: number, runId: string): DeferredProgress | undefined {
    const progress = this.#progress.get(key);
    return progress?.runId === runId ? progress : undefined;
  }

  #deferProgress(cursor: RunCursor): void {
    const last = cursor.last as JournalRecordV1;
    const earlier = this.#deferredOf(cursor.key, cursor.runId);
    // A deleted run's entry on the same key is replaced: its row is gone.
    if (earlier === undefined) {
      this.#progress.set(cursor.key, { runId: last.runId, key: cursor.key, seq: last.seq, hash: last.hash, time: last.time, summary: mergeSummary({}, cursor.summary) });
      return;
    }
    earlier.seq = last.seq;
    earlier.hash = last.hash;
    earlier.time = last.time;
    mergeSummary(earlier.summary, cursor.summary);
  }

  #scheduleProgress(): void {
    if (this.#progressTimer !== undefined || this.#progress.size === 0 || this.#closed) return;
    this.#progressTimer = setTimeout(() => {
      this.#progressTimer = undefined;
      // A group about to commit is due by now, and writes it without a transaction of its own.
      if (this.#flushScheduled) return;
      this.#writeDeferredProgress();
    }, this.#progressLagMs);
    // A process that exits without close() leaves the totals to its runs' next write; the journal has every event.
    this.#progressTimer.unref();
  }

  /** Writes every deferred progress in one transaction of its own; no fdatasync is awaited (the journal holds the truth). */
  #writeDeferredProgress(): void {
    if (this.#progress.size === 0 || this.#closed) return;
    try {
      this.#statements.begin.run();
      try {
        for (const progress of this.#progress.values()) this.#writeProgress(progress);
        this.#statements.commit.run();
      } catch (error) {
        if (this.#database.isTransaction) this.#statements.rollback.run();
        throw error;
      }
      this.#progress.clear();
      this.#progressWrittenAt = this.#now();
    } catch {
      // Busy or failing: the next group or timer tries again.
      this.#scheduleProgress();
    }
  }

  /**
   * A run row as a reader sees it: its last seq and hash from the journal, and this process's
   * deferred totals and time; another process's deferred ones show once written (#progress).
   */
  #runRecord(row: Row): RunRecordV1 {
    const record = toRunRecord(row);
    const key = Number(row.key);
    const tags = this.#statements.runTags.all(key) as unknown as [SQLInputValue, SQLInputValue][];
    if (tags.length > 0) record.tags = Object.fromEntries(tags.map(([name, value]) => [text(name), text(value)]));
    const last = this.#statements.lastEvent.get(key);
    if (last !== undefined) {
      record.lastSeq = Number(last.seq);
      record.lastHash = text(last.hash);
    }
    const progress = this.#deferredOf(key, record.id);
    // Not over a row another process wrote for a later event (as updateDeferredProgress).
    if (progress !== undefined && progress.seq > Number(row.last_seq)) {
      const deferred = progress.summary;
      record.updatedAt = progress.time;
      record.stepCount = deferred.stepCount ?? record.stepCount;
      record.inputTokens = deferred.inputTokens ?? record.inputTokens;
      record.outputTokens = deferred.outputTokens ?? record.outputTokens;
      record.costMicros = deferred.costMicros ?? record.costMicros;
    }
    return record;
  }

  readJournal(runId: string, afterSeq = 0): Promise<JournalRecordV1[]> {
    return this.#read(() =>
      this.#statements.readJournal.all(runId, afterSeq).map((row) => ({
        runId,
        seq: Number(row.seq),
        time: text(row.time),
        type: text(row.type),
        schemaVersion: Number(row.schema_version),
        prevHash: text(row.prev_hash),
        hash: text(row.hash),
        data: JSON.parse(text(row.data)) as JsonValue,
      })),
    );
  }

  /**
   * A run's journal with each event's data as the text stored, unparsed: whole-store verification
   * hashes that text directly (see the journal's verifyStoredChain) instead of parsing it.
   */
  readJournalText(runId: string): Promise<{ runId: string; seq: number; time: string; type: string; schemaVersion: number; prevHash: string; hash: string; dataText: string }[]> {
    return this.#read(() =>
      (this.#statements.readJournalText.all(runId) as unknown as SQLInputValue[][]).map(([seq, time, type, schemaVersion, prevHash, hash, data]) => ({
        runId,
        seq: Number(seq),
        time: text(time),
        type: text(type),
        schemaVersion: Number(schemaVersion),
        prevHash: text(prevHash),
        hash: text(hash),
        dataText: text(data),
      })),
    );
  }

  getRun(runId: string): Promise<RunRecordV1 | undefined> {
    return this.#read(() => {
      const row = this.#statements.getRun.get(runId);
      return row === undefined ? undefined : this.#runRecord(row);
    });
  }

  listRuns(query: RunQueryV1 = {}): Promise<RunRecordV1[]> {
    return this.#read(() => {
      const [first, ...others] = checkRunTagFilter(query.tags);
      const { since, until } = checkRunQueryPeriod(query);
      const tables: string[] = [];
      const conditions: string[] = [];
      const parameters: SQLInputValue[] = [];
      // By tag: the first tag's index (name, value, created_at, run_key) hands its runs newest
      // first from the cursor on, each other tag is a probe of that run's primary key (run_key,
      // name), and the run's row is read by its key; a page stops once it has `limit` runs.
      // CROSS JOIN keeps SQLite to that order: without statistics it may rather walk every run by
      // runs_created and probe the tag for each, reading the whole table for a rare value.
      let order = 'runs.created_at DESC, runs.id DESC';
      if (first !== undefined) {
        tables.push('run_tags AS listed');
        conditions.push('listed.name = ?', 'listed.value = ?');
        parameters.push(...first);
        for (const [index, tag] of others.entries()) {
          tables.push(`run_tags AS also${index}`);
          conditions.push(`also${index}.run_key = listed.run_key`, `also${index}.name = ?`, `also${index}.value = ?`);
          parameters.push(...tag);
        }
        conditions.push('runs.key = listed.run_key');
        // A run's tags carry its created_at: the index's order is the listing's but for runs
        // created in the same millisecond, which are put in id order as they come.
        order = 'listed.created_at DESC, runs.id DESC';
        if (query.after !== undefined) {
          conditions.push('listed.created_at <= ?');
          parameters.push(query.after.createdAt);
        }
      }
      // The period bounds the index the page walks: the first tag's, or runs_created (runs_claim
      // for one status). Times in toISOString's form compare as text as they do as times.
      const created = first === undefined ? 'runs.created_at' : 'listed.created_at';
      if (since !== undefined) {
        conditions.push(`${created} >= ?`);
        parameters.push(since);
      }
      if (until !== undefined) {
        conditions.push(`${created} < ?`);
        parameters.push(until);
      }
      tables.push('runs');
      if (query.statuses !== undefined) {
        conditions.push(`runs.status IN (${query.statuses.map(() => '?').join(', ') || 'NULL'})`);
        parameters.push(...query.statuses);
      }
      if (query.task !== undefined) {
        conditions.push('runs.task = ?');
        parameters.push(query.task);
      }
      if (query.after !== undefined) {
        conditions.push('(runs.created_at, runs.id) < (?, ?)');
        parameters.push(query.after.createdAt, query.after.id);
      }
      const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
      parameters.push(query.limit ?? 100);
      return this.#database
        .prepare(`SELECT runs.* FROM ${tables.join(' CROSS JOIN ')} ${where} ORDER BY ${order} LIMIT ?`)
        .all(...parameters)
        .map((row) => this.#runRecord(row));
    });
  }

  listRunIds(): Promise<string[]> {
    return this.#read(() => this.#statements.listRunIds.all().map((row) => text(row.id)));
  }

  /**
   * From the runs' rows as committed: a running run's totals this process has deferred (#progress)
   * show once written, within progressLagMs, as the specification allows.
   */
  summarizeSpend(query: SpendQueryV1): Promise<SpendRowV1[]> {
    return this.#read(() => {
      const checked = checkSpendQuery(query);
      const { column, since, until } = checked;
      let statement = this.#spendStatements.get(column);
      if (statement === undefined) {
        // created_at is the run-start's time as the journal writes it (toISOString), so the bounds,
        // in the same form, compare as text; the range reads the runs_created index.
        // BINARY collation: groups tie-break in UTF-8 byte order, as PostgreSQL's COLLATE "C".
        // By tag, each run finds its value by the tags' primary key; a run without it is the NULL
        // group, after the others of its cost, as on PostgreSQL.
        const [group, from] =
          column === 'tag' ? ['run_tags.value', 'runs LEFT JOIN run_tags ON run_tags.run_key = runs.key AND run_tags.name = ?'] : [`runs.${column}`, 'runs'];
        statement = this.#database.prepare(
          `SELECT ${group} AS spend_group, count(*) AS run_count, sum(cost_micros) AS total_cost_micros,
             sum(input_tokens) AS total_input_tokens, sum(output_tokens) AS total_output_tokens
           FROM ${from} WHERE runs.created_at >= ? AND runs.created_at < ?
           GROUP BY ${group} ORDER BY total_cost_micros DESC, ${group} COLLATE BINARY NULLS LAST`,
        );
        this.#spendStatements.set(column, statement);
      }
      const rows = checked.column === 'tag' ? statement.all(checked.tag, since, until) : statement.all(since, until);
      return rows.map((row) => ({
        group: nullableText(row.spend_group),
        runs: Number(row.run_count),
        costMicros: Number(row.total_cost_micros),
        inputTokens: Number(row.total_input_tokens),
        outputTokens: Number(row.total_output_tokens),
      }));
    });
  }

  claimRuns(request: ClaimRequestV1): Promise<RunRecordV1[]> {
    return this.#read(() => {
      const statuses = request.statuses ?? defaultClaimable;
      const now = Date.now();
      this.#database.exec('BEGIN IMMEDIATE');
      try {
        const tasks = request.tasks ?? [];
        const taskFilter = request.tasks === undefined ? '' : `AND task IN (${tasks.map(() => '?').join(', ') || 'NULL'})`;
        const candidates = this.#database
          .prepare(
            `SELECT id FROM runs WHERE status IN (${statuses.map(() => '?').join(', ')}) ${taskFilter}
             AND (lease_owner IS NULL OR lease_expires_ms < ?) ORDER BY created_at, id LIMIT ?`,
          )
          .all(...statuses, ...tasks, now, request.limit)
          .map((row) => text(row.id));
        const claimed: RunRecordV1[] = [];
        this.#heads.clear();
        for (const id of candidates) {
          this.#statements.setLease.run(request.owner, now + request.leaseMs, id);
          const row = this.#statements.getRun.get(id);
          if (row !== undefined) claimed.push(this.#runRecord(row));
        }
        this.#database.exec('COMMIT');
        return claimed;
      } catch (error) {
        this.#database.exec('ROLLBACK');
        throw error;
      }
    });
  }

  renewLease(runId: string, owner: string, leaseMs: number): Promise<LeaseRenewalV1> {
    return this.#read(() => {
      this.#heads.delete(runId);
      const row = this.#statements.renewLease.get(Date.now() + leaseMs, runId, owner);
      return { held: row !== undefined, stopRequested: parseStop(row?.stop_requested) };
    });
  }

  claimRun(runId: string, request: { owner: string; leaseMs: number; statuses: RunStatusV1[] }): Promise<RunRecordV1 | undefined> {
    return this.#read(() => {
      this.#heads.delete(runId);
      const now = Date.now();
      const changed = this.#database
        .prepare(
          `UPDATE runs SET lease_owner = ?, lease_expires_ms = ? WHERE id = ? AND status IN (${request.statuses.map(() => '?').join(', ') || 'NULL'})
           AND (lease_owner IS NULL OR lease_expires_ms < ?)`,
        )
        .run(request.owner, now + request.leaseMs, runId, ...request.statuses, now).changes;
      if (changed === 0) return undefined;
      const row = this.#statements.getRun.get(runId);
      return row === undefined ? undefined : this.#runRecord(row);
    });
  }

  requestStop(runId: string, request: StopRequestV1): Promise<RunRecordV1 | undefined> {
    return this.#read(() => {
      this.#statements.requestStop.run(JSON.stringify(request), runId);
      const row = this.#statements.getRun.get(runId);
      return row === undefined ? undefined : this.#runRecord(row);
    });
  }

  releaseLease(runId: string, owner: string): Promise<void> {
    return this.#read(() => {
      this.#heads.delete(runId);
      this.#statements.clearLease.run(runId, owner);
    });
  }

  breakLease(runId: string, expectedOwner: string): Promise<boolean> {
    return this.#read(() => {
      this.#heads.delete(runId);
      return this.#statements.clearLease.run(runId, expectedOwner).changes > 0;
    });
  }

  appendMemory(entry: NewMemoryEntryV1): Promise<MemoryEntryV1> {
    return this.#memoryWrite(() => {
      const key = checkNewEntry(entry);
      const seq = Number(this.#statements.memoryMaxSeq.get(key.tenant, key.kind, key.id)?.max_seq ?? 0) + 1;
      return this.#insertMemory(key, seq, entry, null);
    });
  }

  readMemory(scope: MemoryScopeV1, options: MemoryReadOptionsV1 = {}): Promise<MemoryEntryV1[]> {
    return this.#read(() => {
      const key = memoryKey(scope);
      return this.#statements.readMemory
        .all(key.tenant, key.kind, key.id, options.afterSeq ?? 0, readLimit(options.limit) ?? -1)
        .map((row) => memoryEntryOf(key, row));
    });
  }

  replaceMemory(scope: MemoryScopeV1, replacement: MemoryReplacementV1): Promise<MemoryEntryV1> {
    return this.#memoryWrite(() => {
      const key = memoryKey(scope);
      const summaryKey = checkNewEntry(replacement.summary);
      if (!sameKey(key, summaryKey)) throw new KeelError('config-invalid', 'a memory summary must belong to the scope it replaces');
      const replaced: MemoryReplacedV1[] = this.#statements.memoryUpTo.all(key.tenant, key.kind, key.id, replacement.upToSeq).map((row) => ({
        seq: Number(row.seq),
        contentHash: text(row.content_hash),
        source: { runId: nullableText(row.source_run_id), step: row.source_step === null ? null : Number(row.source_step) },
      }));
      const last = replaced.at(-1);
      if (last === undefined) {
        throw new KeelError('journal-conflict', `no ${key.kind} memory at or below seq ${replacement.upToSeq} to replace (already summarised?)`);
      }
      this.#statements.deleteMemoryUpTo.run(key.tenant, key.kind, key.id, replacement.upToSeq);
      return this.#insertMemory(key, last.seq, replacement.summary, replaced);
    });
  }

  #insertMemory(key: MemoryKey, seq: number, entry: NewMemoryEntryV1, summarises: MemoryReplacedV1[] | null): MemoryEntryV1 {
    this.#statements.insertMemory.run(
      key.tenant,
      key.kind,
      key.id,
      seq,
      entry.role,
      entry.text,
      JSON.stringify(entry.labels),
      entry.createdAt,
      entry.source.runId,
      entry.source.step,
      entry.contentHash,
      summarises === null ? null : JSON.stringify(summarises),
    );
    return { scope: entry.scope, seq, role: entry.role, text: entry.text, labels: { ...entry.labels }, createdAt: entry.createdAt, source: { ...entry.source }, contentHash: entry.contentHash, summarises };
  }

  /**
   * Work that writes (memory, budgets, limits, keys, slots...) joins the next group commit, so a
   * gateway request's reservation, rate-limit hit and settlement share their commits and syncs
   * with every other write of the moment instead of a transaction each. Durable when it resolves
   * unless `sync` is false.
   */
  #memoryWrite<T>(work: () => T, options: { sync: boolean } = { sync: true }): Promise<T> {
    return new Promise<T>((resolve, reject) => this.#enqueue({ kind: 'work', work, sync: options.sync, resolve: resolve as (value: unknown) => void, reject }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Let queued writes commit before the handle goes away.
    while (this.#pending.length > 0 || this.#flushScheduled) await new Promise((resolve) => setImmediate(resolve));
    clearTimeout(this.#progressTimer);
    this.#progressTimer = undefined;
    this.#writeDeferredProgress();
    this.#closed = true;
    await this.#checkpointer?.close();
    await this.#walSync?.close();
    this.#database.close();
  }

  // Reads are synchronous in node:sqlite; wrapping them keeps errors on the promise path.
  #read<T>(work: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new KeelError('db-unavailable', `store ${this.location} is closed`));
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error instanceof KeelError ? error : new KeelError('db-unavailable', `${this.location}: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
    }
  }
}

// Bound in this order: last seq, hash and time, whether to set the reason, the reason, step count,
// input and output tokens, cost; then the run's key.
const progressColumns = `last_seq = ?, last_hash = ?, updated_at = ?,
  reason = CASE WHEN ? = 1 THEN ? ELSE reason END,
  step_count = COALESCE(?, step_count),
  input_tokens = COALESCE(?, input_tokens),
  output_tokens = COALESCE(?, output_tokens),
  cost_micros = COALESCE(?, cost_micros)`;

function answer(pending: Pending): void {
  if (pending.kind === 'work') pending.resolve(pending.value);
  else pending.resolve();
}

/** Whether a group's appends to a run change what its row must show at once: status, reason or lease. */
function changesRunRow(cursor: RunCursor): boolean {
  const { summary } = cursor;
  return cursor.endLease || summary.reason !== undefined || (summary.status !== undefined && summary.status !== cursor.storedStatus);
}

/** Copies the totals `from` sets onto `into` (later appends override earlier ones). */
function mergeSummary(into: RunSummaryPatchV1, from: RunSummaryPatchV1): RunSummaryPatchV1 {
  if (from.stepCount !== undefined) into.stepCount = from.stepCount;
  if (from.inputTokens !== undefined) into.inputTokens = from.inputTokens;
  if (from.outputTokens !== undefined) into.outputTokens = from.outputTokens;
  if (from.costMicros !== undefined) into.costMicros = from.costMicros;
  if (from.status !== undefined) into.status = from.status;
  if (from.reason !== undefined) into.reason = from.reason;
  return into;
}

/** A journal row as the group's multi-row insert binds it. */
function pushRecord(insertRecords: MultiRowStatement, runKey: number | bigint, record: JournalRecordV1): void {
  insertRecords.push(runKey);
  insertRecords.push(record.seq);
  insertRecords.push(record.time);
  insertRecords.push(record.type);
  insertRecords.push(record.schemaVersion);
  insertRecords.push(record.prevHash);
  insertRecords.push(record.hash);
  insertRecords.push((record as { [canonicalDataText]?: string })[canonicalDataText] ?? JSON.stringify(record.data));
}

function prepareStatements(database: DatabaseSync) {
  const prepare = (sql: string): StatementSync => database.prepare(sql);
  return {
    begin: prepare('BEGIN IMMEDIATE'),
    savepoint: prepare('SAVEPOINT keel_work'),
    releaseSavepoint: prepare('RELEASE keel_work'),
    rollbackToSavepoint: prepare('ROLLBACK TO keel_work'),
    commit: prepare('COMMIT'),
    rollback: prepare('ROLLBACK'),
    // The last seq from the journal, not the run row: the row's progress may lag (see #progress).
    runHead: prepare(`SELECT key, status, (SELECT max(seq) FROM journal WHERE run_key = runs.key) AS last_seq, lease_owner, lease_expires_ms FROM runs WHERE id = ?`),
    lastEvent: prepare(`SELECT seq, hash, time FROM journal WHERE run_key = ? ORDER BY seq DESC LIMIT 1`),
    getRun: prepare(`SELECT * FROM runs WHERE id = ?`),
    runTags: rowsAsArrays(prepare(`SELECT name, value FROM run_tags WHERE run_key = ? ORDER BY name`)),
    insertRun: prepare(
      `INSERT INTO runs (id, task, task_version, principal, tenant, status, created_at, updated_at, last_seq, last_hash, lease_owner, lease_expires_ms)
       VALUES (:id, :task, :task_version, :principal, :tenant, :status, :created_at, :created_at, :last_seq, :last_hash, :lease_owner, :lease_expires_ms)`,
    ),
    updateProgress: prepare(`UPDATE runs SET ${progressColumns} WHERE key = ?`),
    updateProgressAndStatus: prepare(`UPDATE runs SET status = ?, ${progressColumns} WHERE key = ?`),
    updateDeferredProgress: prepare(
      `UPDATE runs SET last_seq = ?, last_hash = ?, updated_at = ?, step_count = COALESCE(?, step_count), input_tokens = COALESCE(?, input_tokens),
       output_tokens = COALESCE(?, output_tokens), cost_micros = COALESCE(?, cost_micros) WHERE key = ? AND id = ? AND last_seq < ?`,
    ),
    // Changes when another connection commits to the file: the remembered run heads may be stale.
    dataVersion: prepare('PRAGMA data_version'),
    // OR ROLLBACK: a row that breaks a constraint rolls back the whole transaction, which a failing
    // group is anyway (#flush), so SQLite keeps no statement journal to undo a chunk alone: 5-15%
    // less CPU a chunk.
    insertRecords: new MultiRowStatement(database, {
      width: 8,
      maxRows: 16,
      sql: (valuesList) => `INSERT OR ROLLBACK INTO journal (run_key, seq, time, type, schema_version, prev_hash, hash, data) VALUES ${valuesList}`,
    }),
    readJournal: prepare(
      `SELECT journal.* FROM journal JOIN runs ON runs.key = journal.run_key WHERE runs.id = ? AND journal.seq > ? ORDER BY journal.seq`,
    ),
    readJournalText: rowsAsArrays(
      prepare(`SELECT seq, time, type, schema_version, prev_hash, hash, data FROM journal WHERE run_key = (SELECT key FROM runs WHERE id = ?) ORDER BY seq`),
    ),
    listRunIds: prepare(`SELECT id FROM runs ORDER BY created_at, id`),
    setLease: prepare(`UPDATE runs SET lease_owner = ?, lease_expires_ms = ? WHERE id = ?`),
    renewLease: prepare(`UPDATE runs SET lease_expires_ms = ? WHERE id = ? AND lease_owner = ? RETURNING stop_requested`),
    requestStop: prepare(`UPDATE runs SET stop_requested = COALESCE(stop_requested, ?) WHERE id = ?`),
    clearLease: prepare(`UPDATE runs SET lease_owner = NULL, lease_expires_ms = NULL WHERE id = ? AND lease_owner = ?`),
    endLease: prepare(`UPDATE runs SET lease_owner = NULL, lease_expires_ms = NULL WHERE key = ?`),
    memoryMaxSeq: prepare(`SELECT max(seq) AS max_seq FROM memory WHERE tenant = ? AND scope_kind = ? AND scope_id = ?`),
    readMemory: prepare(`SELECT * FROM memory WHERE tenant = ? AND scope_kind = ? AND scope_id = ? AND seq > ? ORDER BY seq LIMIT ?`),
    memoryUpTo: prepare(
      `SELECT seq, content_hash, source_run_id, source_step FROM memory WHERE tenant = ? AND scope_kind = ? AND scope_id = ? AND seq <= ? ORDER BY seq`,
    ),
    deleteMemoryUpTo: prepare(`DELETE FROM memory WHERE tenant = ? AND scope_kind = ? AND scope_id = ? AND seq <= ?`),
    insertMemory: prepare(
      `INSERT INTO memory (tenant, scope_kind, scope_id, seq, role, text, labels, created_at, source_run_id, source_step, content_hash, summarises)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  };
}

// Rows as arrays, not objects: a bulk read then builds no per-row object keyed by column name.
function rowsAsArrays(statement: StatementSync): StatementSync {
  statement.setReturnArrays(true);
  return statement;
}

// node:sqlite types a column as any SQL value; Keel's columns are declared STRICT, so these hold.
function text(value: SQLInputValue | undefined): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return value.toString();
  throw new KeelError('db-unreadable', `expected a text column, found ${value === null ? 'NULL' : typeof value}`);
}

function nullableText(value: SQLInputValue | undefined): string | null {
  return value === null || value === undefined ? null : text(value);
}

function toRunRecord(row: Row): RunRecordV1 {
  const expires = row.lease_expires_ms;
  return {
    id: text(row.id),
    task: text(row.task),
    taskVersion: text(row.task_version),
    principal: text(row.principal),
    tenant: text(row.tenant),
    status: text(row.status) as RunStatusV1,
    reason: nullableText(row.reason),
    createdAt: text(row.created_at),
    updatedAt: text(row.updated_at),
    lastSeq: Number(row.last_seq),
    lastHash: text(row.last_hash),
    stepCount: Number(row.step_count),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    costMicros: Number(row.cost_micros),
    leaseOwner: nullableText(row.lease_owner),
    leaseExpiresAt: expires === null ? null : new Date(Number(expires)).toISOString(),
    stopRequested: parseStop(row.stop_requested),
  };
}

function parseStop(value: SQLInputValue | undefined): StopRequestV1 | null {
  return typeof value === 'string' ? (JSON.parse(value) as StopRequestV1) : null;
}

function memoryEntryOf(key: MemoryKey, row: Row): MemoryEntryV1 {
  return toMemoryEntry(key, {
    seq: Number(row.seq),
    role: text(row.role),
    text: text(row.text),
    labels: text(row.labels),
    createdAt: text(row.created_at),
    sourceRunId: nullableText(row.source_run_id),
    sourceStep: row.source_step === null || row.source_step === undefined ? null : Number(row.source_step),
    contentHash: text(row.content_hash),
    summarises: nullableText(row.summarises),
  });
}

/** Whether a committed write is answered only once it is on stable storage (durability full). */
function waitsForSync(pending: Pending): boolean {
  if (pending.kind === 'create') return pending.newRun.deferSync !== true;
  if (pending.kind === 'append') return pending.batch.deferSync !== true;
  return pending.sync;
}
