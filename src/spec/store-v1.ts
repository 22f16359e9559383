/**
 * Store specification, version 1: the one interface every store adapter (node:sqlite, PostgreSQL)
 * implements. Types only. Adapters are checked by one shared conformance suite
 * (src/store/conformance) and never interpret event payloads: they persist records, keep the run
 * index, and arbitrate leases.
 */
import type { BreakerStoreV1 } from './breaker-store-v1.ts';
import type { ConcurrencyStoreV1 } from './concurrency-store-v1.ts';
import type { AuditLogStoreV1 } from './audit-log-store-v1.ts';
import type { BudgetStoreV1 } from './budget-store-v1.ts';
import type { DatasetStoreV1 } from './dataset-store-v1.ts';
import type { KeyStoreV1 } from './key-store-v1.ts';
import type { MemoryStoreV1 } from './memory-store-v1.ts';
import type { RateLimiterV1 } from './rate-limiter-v1.ts';
import type { ResponseCacheStoreV1 } from './response-cache-store-v1.ts';
import type { TelemetryCursorStoreV1 } from './telemetry-cursor-store-v1.ts';
import type { SubjectKeyStoreV1 } from './subject-key-store-v1.ts';
import type { RunRetentionStoreV1 } from './run-retention-store-v1.ts';

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
  /**
   * What the run was tagged with when it was created (a project, a feature, a team: for spend
   * attribution), fixed for its life; absent when it has none. At most 16, each name
   * [A-Za-z0-9_.-]{1,64}, each value 1 to 256 characters with no control characters.
   */
  tags?: RunTagsV1;
}

/** A run's tags: name to value. */
export type RunTagsV1 = Readonly<Record<string, string>>;

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

/** Which runs a spend summary covers, and how it groups them. */
export interface SpendQueryV1 {
  /** Runs created at or after this instant (ISO-8601 UTC)… */
  since: string;
  /** …and before this one. */
  until: string;
  /** A run column, or `tag`: the value of the run's tag named `tag`. */
  by: 'tenant' | 'principal' | 'task' | 'tag';
  /** The tag's name, with `by: 'tag'` only. */
  tag?: string;
}

/** One group's runs and what they spent, from the run index's totals. */
export interface SpendRowV1 {
  /** The tenant, principal, task or tag value; null for the runs without the tag (by tag only). */
  group: string | null;
  runs: number;
  costMicros: number;
  inputTokens: number;
  outputTokens: number;
}

export interface AppendBatchV1 {
  runId: string;
  /** Contiguous records; the first must have seq = the run's lastSeq + 1. */
  records: JournalRecordV1[];
  summary: RunSummaryPatchV1;
  /** When set, the append fails with `lease-lost` unless this owner holds the run's lease. */
  fence?: { leaseOwner: string };
  /**
   * Resolve once committed, without waiting for stable storage, as `NewRunV1.deferSync`: for the
   * `run-resume` of a run its creator executes at once, whose next write that waits covers it.
   * Stores whose commits are durable already (PostgreSQL) ignore it.
   */
  deferSync?: boolean;
}

export interface NewRunV1 {
  /** A run whose tags break the rules (RunRecordV1.tags) is refused with `usage-invalid`. */
  run: Pick<RunRecordV1, 'id' | 'task' | 'taskVersion' | 'principal' | 'tenant' | 'status' | 'tags'>;
  /** The run-start record, seq 1. */
  first: JournalRecordV1;
  /** Create the run already leased to this owner (the creator executes it right away). */
  lease?: { owner: string; leaseMs: number };
  /**
   * Resolve once the run is committed, without waiting for it to reach stable storage: it becomes
   * durable with the next write that waits (an append, a budget reservation), which a store must
   * order after it. For a creator that executes the run at once and reports nothing before its end.
   * Stores whose commits are durable already (PostgreSQL) ignore it.
   */
  deferSync?: boolean;
}

export interface RunQueryV1 {
  statuses?: RunStatusV1[];
  task?: string;
  /**
   * Only runs carrying every one of these tags with exactly this value (`{ project: 'search',
   * team: 'core' }`: both). Names and values follow the tags' rules (RunRecordV1.tags); a filter
   * that breaks them is refused with `usage-invalid`. Empty: no filter. Added to version 1 later.
   */
  tags?: RunTagsV1;
  /**
   * Only runs created at or after this instant (ISO-8601 with its zone, as SpendQueryV1.since)…
   * Added to version 1 later, with `until`.
   */
  since?: string;
  /**
   * …and before this one. An instant that is not ISO-8601 with its zone, or since after until, is
   * refused with `usage-invalid`; since equal to until is an empty period.
   */
  until?: string;
  /** Newest first; default 100. */
  limit?: number;
  /**
   * Keyset paging: only runs listed after this one (older, or as old with a smaller id). Pass the
   * last run of the previous page to read every run, however many, one page at a time.
   */
  after?: Pick<RunRecordV1, 'createdAt' | 'id'>;
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

/** Runs, journals and leases; memory too (MemoryStoreV1), so one store holds everything a run needs. */
export interface StoreV1 extends MemoryStoreV1 {
  readonly specificationVersion: 'v1';
  readonly dialect: 'sqlite' | 'postgres';
  /** Where the data lives, safe to print (no credentials). */
  readonly location: string;
  /**
   * Budget accounts shared by every process on this store (budget-store-v1.ts). Optional: an
   * adapter without it still conforms, and its users keep budgets per process.
   */
  readonly budgets?: BudgetStoreV1;
  /** The Merkle log of run checkpoints and its signed tree heads (audit-log-store-v1.ts). Optional, as budgets. */
  readonly auditLog?: AuditLogStoreV1;
  /** The gateway's virtual keys (key-store-v1.ts). Optional: without it, a gateway has no keys. */
  readonly keys?: KeyStoreV1;
  /** Rate-limit windows shared by every process on this store (rate-limiter-v1.ts). Optional, as budgets. */
  readonly rateLimits?: RateLimiterV1;
  /** Circuit-breaker state shared by every process on this store (breaker-store-v1.ts). Optional, as budgets. */
  readonly breakers?: BreakerStoreV1;
  /** Concurrency-limit (bulkhead) slots shared by every process on this store (concurrency-store-v1.ts). Optional, as budgets. */
  readonly concurrency?: ConcurrencyStoreV1;
  /** Evaluation datasets pinned from the journal (dataset-store-v1.ts). Optional, as budgets. */
  readonly datasets?: DatasetStoreV1;
  /** Where telemetry exporters keep their place in the journal (telemetry-cursor-store-v1.ts). Optional, as budgets. */
  readonly telemetryCursors?: TelemetryCursorStoreV1;
  /** Answers the gateway's cache keeps for every process on this store (response-cache-store-v1.ts). Optional, as budgets. */
  readonly responseCache?: ResponseCacheStoreV1;
  /**
   * What runs created in a period spent, grouped by tenant, principal, task or a tag's value, most
   * costly first (ties by group, the runs without the tag last). Read from the run index, whose
   * totals a running run updates within about a second (progressLagMs on SQLite) and an ended run
   * has in full. Optional, added to version 1 later; grouping by tag later still.
   */
  summarizeSpend?(query: SpendQueryV1): Promise<SpendRowV1[]>;
  /** Per-subject keys that seal labelled payload fields, and their redactions (subject-key-store-v1.ts). Optional, as budgets. */
  readonly subjectKeys?: SubjectKeyStoreV1;
  /** Deletion of ended runs past their retention period (run-retention-store-v1.ts). Optional, as budgets. */
  readonly retention?: RunRetentionStoreV1;

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

  close(): Promise<void>;
}
