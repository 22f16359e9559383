/**
 * Store specification, version 1: the one interface every store adapter (node:sqlite, PostgreSQL)
 * implements. Types only. Adapters are checked by one shared conformance suite
 * (src/store/conformance) and never interpret event payloads: they persist records, keep the run
 * index, and arbitrate leases.
 */

/** Non-terminal: queued, running, waiting (for a human). Terminal: ok, degraded, escalated, failed. */
export type RunStatusV1 = 'queued' | 'running' | 'waiting' | 'ok' | 'degraded' | 'escalated' | 'failed';

/** JSON as stored: what a journal payload may contain. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** One journal event as persisted. `hash` chains it to `prevHash`, the hash of event seq-1. */
export interface JournalRecordV1 {
  runId: string;
  /** 1-based, contiguous per run. */
  seq: number;
  /** ISO-8601 UTC with milliseconds. */
  time: string;
  type: string;
  schemaVersion: number;
  prevHash: string;
  hash: string;
  data: JsonValue;
}

/** The run index row: a projection of the journal kept for listing and claiming. */
export interface RunRecordV1 {
  id: string;
  task: string;
  taskVersion: string;
  principal: string;
  tenant: string;
  status: RunStatusV1;
  /** Why the run ended or is waiting; null while running normally. */
  reason: string | null;
  createdAt: string;
  updatedAt: string;
  lastSeq: number;
  lastHash: string;
  stepCount: number;
  inputTokens: number;
  outputTokens: number;
  /** Money spent by the run's model calls, in integer micro-USD (1 USD = 1,000,000). */
  costMicros: number;
  leaseOwner: string | null;
  leaseExpiresAt: string | null;
  /** A person asked for the run to stop; the worker holding it ends it at the next safe point. */
  stopRequested: StopRequestV1 | null;
}

export interface StopRequestV1 {
  by: string;
  reason: string;
}

export interface LeaseRenewalV1 {
  /** False: another worker holds the run now; stop touching it. */
  held: boolean;
  stopRequested: StopRequestV1 | null;
}

/** Absolute values the appender computed from its folded state; omitted fields are unchanged. */
export interface RunSummaryPatchV1 {
  status?: RunStatusV1;
  reason?: string | null;
  stepCount?: number;
  inputTokens?: number;
  outputTokens?: number;
  costMicros?: number;
}

export interface AppendBatchV1 {
  runId: string;
  /** Contiguous records; the first must have seq = the run's lastSeq + 1. */
  records: JournalRecordV1[];
  summary: RunSummaryPatchV1;
  /** When set, the append fails with `lease-lost` unless this owner holds the run's lease. */
  fence?: { leaseOwner: string };
}

export interface NewRunV1 {
  run: Pick<RunRecordV1, 'id' | 'task' | 'taskVersion' | 'principal' | 'tenant' | 'status'>;
  /** The run-start record, seq 1. */
  first: JournalRecordV1;
  /** Create the run already leased to this owner (the creator executes it right away). */
  lease?: { owner: string; leaseMs: number };
}

export interface RunQueryV1 {
  statuses?: RunStatusV1[];
  task?: string;
  /** Newest first; default 100. */
  limit?: number;
}

export interface ClaimRequestV1 {
  owner: string;
  leaseMs: number;
  limit: number;
  /** Which statuses may be claimed; default queued and running. */
  statuses?: RunStatusV1[];
  /** Claim only runs of these tasks (the ones the claimer can execute); default any task. */
  tasks?: string[];
}

/**
 * Where a memory entry lives. The tenant is part of every scope, and every memory query is keyed
 * on it: no query can read another tenant's memory.
 * - `session`: conversation memory of one session;
 * - `long-term`: what is remembered about one principal across sessions;
 * - `handoff`: state one agent passes to another.
 */
export type MemoryScopeV1 =
  | { kind: 'session'; tenant: string; sessionId: string }
  | { kind: 'long-term'; tenant: string; principal: string }
  | { kind: 'handoff'; tenant: string; handoffId: string };

export type MemoryRoleV1 = 'system' | 'user' | 'assistant' | 'tool' | 'summary' | 'state';

/** The run and journal step that produced an entry; both null when written outside a run. */
export interface MemorySourceV1 {
  runId: string | null;
  step: number | null;
}

/** One replaced entry, as a summary records it. */
export interface MemoryReplacedV1 {
  seq: number;
  contentHash: string;
  source: MemorySourceV1;
}

/** One memory entry as persisted. */
export interface MemoryEntryV1 {
  scope: MemoryScopeV1;
  /** 1-based, increasing per scope (gaps appear where a summary replaced entries). */
  seq: number;
  role: MemoryRoleV1;
  text: string;
  labels: { [key: string]: string };
  /** ISO-8601 UTC with milliseconds. */
  createdAt: string;
  source: MemorySourceV1;
  /** sha256 hex of `text`, computed by the writer. */
  contentHash: string;
  /** Set on a summary: the entries it replaced, oldest first. */
  summarises: MemoryReplacedV1[] | null;
}

/** An entry to write: the store assigns `seq` (and `summarises`, for a summary). */
export type NewMemoryEntryV1 = Omit<MemoryEntryV1, 'seq' | 'summarises'>;

export interface MemoryReadOptionsV1 {
  /** Only entries with a seq above this. */
  afterSeq?: number;
  /** At most this many entries, oldest first. */
  limit?: number;
}

export interface MemoryReplacementV1 {
  /** Every entry of the scope with seq <= upToSeq is replaced. */
  upToSeq: number;
  /** The summary's own scope must equal the scope replaced. */
  summary: NewMemoryEntryV1;
}

export interface StoreV1 {
  readonly specificationVersion: 'v1';
  readonly dialect: 'sqlite' | 'postgres';
  /** Where the data lives, safe to print (no credentials). */
  readonly location: string;

  /** Fails with `run-exists` if the id is taken. */
  createRun(newRun: NewRunV1): Promise<void>;
  /**
   * Durable when it resolves. Atomic per batch. Fails with `journal-conflict` when the first seq
   * does not follow the run's last one, `lease-lost` when the fence does not hold, `run-not-found`.
   * A lease belongs to an execution: an append whose summary sets the status to anything but
   * `running` (queued, waiting, an end state) clears the run's lease in the same transaction.
   */
  append(batch: AppendBatchV1): Promise<void>;
  readJournal(runId: string, afterSeq?: number): Promise<JournalRecordV1[]>;
  getRun(runId: string): Promise<RunRecordV1 | undefined>;
  listRuns(query?: RunQueryV1): Promise<RunRecordV1[]>;
  /** Every run id, oldest first (for whole-store verification). */
  listRunIds(): Promise<string[]>;

  /**
   * Atomically lease up to `limit` claimable runs whose lease is absent or expired, oldest first.
   * Two concurrent callers never receive the same run.
   */
  claimRuns(request: ClaimRequestV1): Promise<RunRecordV1[]>;
  /** Extends the lease; `held: false` if `owner` no longer holds it. Also reports a stop request. */
  renewLease(runId: string, owner: string, leaseMs: number): Promise<LeaseRenewalV1>;
  /** Leases this one run if it is in one of `statuses` and its lease is absent or expired. */
  claimRun(runId: string, request: { owner: string; leaseMs: number; statuses: RunStatusV1[] }): Promise<RunRecordV1 | undefined>;
  /** Records a stop request on a run (first request wins); returns the run, or undefined if unknown. */
  requestStop(runId: string, request: StopRequestV1): Promise<RunRecordV1 | undefined>;
  /** Gives the lease up; a no-op if `owner` does not hold it. */
  releaseLease(runId: string, owner: string): Promise<void>;
  /** Clears the lease only if `expectedOwner` holds it (used to reclaim from a dead local process). */
  breakLease(runId: string, expectedOwner: string): Promise<boolean>;

  /** Appends to the entry's scope with the next seq; returns the entry as stored. */
  appendMemory(entry: NewMemoryEntryV1): Promise<MemoryEntryV1>;
  /** A scope's entries, oldest (lowest seq) first. */
  readMemory(scope: MemoryScopeV1, options?: MemoryReadOptionsV1): Promise<MemoryEntryV1[]>;
  /**
   * Atomically replaces every entry with seq <= upToSeq by one summary, which takes the seq of the
   * last entry it replaces (so order is kept) and records the replaced entries in `summarises`.
   * Entries appended meanwhile above upToSeq are kept. Fails with `journal-conflict` when there
   * is no entry at or below upToSeq to replace.
   */
  replaceMemory(scope: MemoryScopeV1, replacement: MemoryReplacementV1): Promise<MemoryEntryV1>;

  close(): Promise<void>;
}
