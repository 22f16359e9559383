/**
 * Anchoring: appends a leaf for every run whose head moved since it was last anchored, and issues
 * a signed tree head over the extended tree. The new root comes from the previous head's compact
 * range (its right edge), so an append costs O(log n) hashes, not a rehash of every leaf.
 */
import { KeelError } from '../errors/index.ts';
import type { AuditLogStoreV1, AuditTreeHeadV1 } from '../spec/index.ts';
import { auditLeafHash } from './audit-leaf.ts';
import type { CompactRange } from './merkle-tree.ts';
import { appendLeaf, emptyRange, rangeRoot } from './merkle-tree.ts';
import type { SigningKey } from './tree-head.ts';
import { signTreeHead } from './tree-head.ts';

export interface AuditLogOptions {
  log: AuditLogStoreV1;
  signingKey: SigningKey;
  /** The clock tree heads are stamped with; default the system's. */
  now?: () => Date;
  /** Runs anchored per tree head at most; the rest wait for the next anchoring. Default 10,000. */
  batchLimit?: number;
}

export interface AnchorOutcome {
  /** Leaves appended (runs whose head moved). */
  anchored: number;
  /** The head issued, or the latest one when nothing needed anchoring. */
  treeHead: AuditTreeHeadV1 | undefined;
}

// Other processes extending the log at the same moment make an append start over; each retry
// re-reads the head, so this bounds contention, not progress of a lone writer.
const appendAttempts = 8;

export class AuditLog {
  readonly #log: AuditLogStoreV1;
  readonly #key: SigningKey;
  readonly #now: () => Date;
  readonly #batchLimit: number;
  /** Anchorings run one at a time here; requests made while one runs join the next. */
  #running: Promise<unknown> = Promise.resolve();
  #next: { runIds: Set<string> | 'all'; done: Promise<AnchorOutcome> } | undefined;

  constructor(options: AuditLogOptions) {
    this.#log = options.log;
    this.#key = options.signingKey;
    this.#now = options.now ?? (() => new Date());
    this.#batchLimit = options.batchLimit ?? 10_000;
  }

  get keyId(): string {
    return this.#key.keyId;
  }

  /** Anchors these runs' heads (or every run's, when none are named) under one new signed tree head. */
  anchor(runIds?: readonly string[]): Promise<AnchorOutcome> {
    if (this.#next === undefined) {
      const next: { runIds: Set<string> | 'all'; done: Promise<AnchorOutcome> } = { runIds: new Set(), done: Promise.resolve({ anchored: 0, treeHead: undefined }) };
      next.done = this.#running.then(() => {
        this.#next = undefined;
        return this.#anchorNow(next.runIds === 'all' ? undefined : [...next.runIds]);
      });
      this.#running = next.done.catch(() => undefined);
      this.#next = next;
    }
    const next = this.#next;
    if (runIds === undefined) next.runIds = 'all';
    else if (next.runIds !== 'all') for (const runId of runIds) next.runIds.add(runId);
    return next.done;
  }

  async #anchorNow(runIds: string[] | undefined): Promise<AnchorOutcome> {
    for (let attempt = 1; attempt <= appendAttempts; attempt += 1) {
      const head = await this.#log.latestTreeHead();
      const runs = await this.#log.listUnanchoredRuns(runIds === undefined ? { limit: this.#batchLimit } : { runIds: runIds.slice(0, this.#batchLimit) });
      if (runs.length === 0) return { anchored: 0, treeHead: head };
      let range = startingRange(head);
      const anchoredAt = this.#now().toISOString();
      const leaves = runs.map((run, offset) => ({ index: range.size + offset, runId: run.runId, seq: run.seq, eventHash: run.hash, anchoredAt }));
      for (const leaf of leaves) range = appendLeaf(range, auditLeafHash(leaf));
      const unsigned = { treeSize: range.size, rootHash: rangeRoot(range).toString('hex'), issuedAt: anchoredAt, keyId: this.#key.keyId };
      const treeHead: AuditTreeHeadV1 = { ...unsigned, signature: signTreeHead(unsigned, this.#key), compactRange: range.hashes.map((hash) => hash.toString('hex')) };
      if (await this.#log.appendAuditEntries({ previousTreeSize: head?.treeSize ?? 0, leaves, treeHead })) return { anchored: leaves.length, treeHead };
    }
    throw new KeelError('db-unavailable', `the audit log kept moving: ${appendAttempts} attempts to extend it lost to other processes; the runs are anchored next time`);
  }
}

/**
 * The right edge the next leaves extend. A stored range that does not fold to its own head's root
 * was altered: extending it would sign a tree nobody can reproduce, so anchoring stops instead.
 */
function startingRange(head: AuditTreeHeadV1 | undefined): CompactRange {
  if (head === undefined) return emptyRange;
  const range = { size: head.treeSize, hashes: head.compactRange.map((hash) => Buffer.from(hash, 'hex')) };
  if (range.hashes.length !== popCount(head.treeSize) || rangeRoot(range).toString('hex') !== head.rootHash) {
    throw new KeelError('journal-invalid', `the audit log's latest tree head (size ${head.treeSize}) does not match its stored right edge; run keel audit verify`);
  }
  return range;
}

function popCount(value: number): number {
  let count = 0;
  for (let rest = value; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
}
