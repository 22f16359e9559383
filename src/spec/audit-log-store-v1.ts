/**
 * Audit log store specification, version 1: where the append-only Merkle log of run checkpoints
 * and its signed tree heads live (src/audit). Types only. The store keeps rows and serialises
 * appends; it never hashes or signs: the audit component computes every leaf, root and signature,
 * and a store cannot tell a forged row from a true one (the verifier can).
 *
 * Hashes are lowercase hex; times ISO-8601 UTC.
 */

/** One leaf: a run's head event at the moment it was anchored. Its hash chains the run's prefix. */
export interface AuditLeafV1 {
  /** 0-based position in the log. */
  index: number;
  runId: string;
  seq: number;
  eventHash: string;
  anchoredAt: string;
}

/** A signed statement of the log's size and root (src/audit/tree-head.ts says what is signed). */
export interface AuditTreeHeadV1 {
  treeSize: number;
  rootHash: string;
  issuedAt: string;
  /** Names the signing key (a digest of its public key); never the key itself. */
  keyId: string;
  /** Ed25519 signature, base64. */
  signature: string;
  /** The roots of the perfect subtrees on the tree's right edge, largest first: the next append starts from them. */
  compactRange: string[];
}

/** A run's latest event, as the run index has it. */
export interface AuditRunHeadV1 {
  runId: string;
  seq: number;
  hash: string;
}

export interface AuditAppendV1 {
  /** The size of the tree these leaves extend; the append is refused unless it is still the latest. */
  previousTreeSize: number;
  /** Contiguous, starting at index `previousTreeSize`. */
  leaves: AuditLeafV1[];
  /** The head of the tree with these leaves: treeSize = previousTreeSize + leaves.length. */
  treeHead: AuditTreeHeadV1;
}

export interface AuditLogStoreV1 {
  readonly auditLogSpecificationVersion: 'v1';
  /**
   * In one transaction: the leaves and the tree head, only if `previousTreeSize` is still the
   * log's size. Returns false, writing nothing, when another appender extended the log first (the
   * caller re-reads the head and tries again). Appends are thereby serialised across processes.
   */
  appendAuditEntries(append: AuditAppendV1): Promise<boolean>;
  /** The head with the largest tree size, if any. */
  latestTreeHead(): Promise<AuditTreeHeadV1 | undefined>;
  /** Every tree head, smallest tree first. */
  listTreeHeads(): Promise<AuditTreeHeadV1[]>;
  /** Leaves by index, from `fromIndex` (default 0), at most `limit` (default all). */
  readAuditLeaves(fromIndex?: number, limit?: number): Promise<AuditLeafV1[]>;
  /** The run's leaf with the highest seq, if it was ever anchored. */
  latestLeafOfRun(runId: string): Promise<AuditLeafV1 | undefined>;
  /**
   * Runs whose head (the run index's last event) is past their last anchored seq, or that were
   * never anchored: oldest first, at most `limit` (default all). `runIds` narrows it to those runs.
   */
  listUnanchoredRuns(options?: { runIds?: string[]; limit?: number }): Promise<AuditRunHeadV1[]>;
}
