/**
 * Memory store specification, version 1: where session, long-term and hand-off memory persist.
 * Types only. StoreV1 extends it, so both store adapters are memory stores too (checked by the
 * same conformance suite); the memory component needs nothing more than this.
 */

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

export interface MemoryStoreV1 {
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
}
