/**
 * The audit log's leaves and tree heads in the SQLite file (src/spec/audit-log-store-v1.ts). An
 * append is one IMMEDIATE transaction that first checks the log's size: SQLite admits one writer
 * at a time, so two processes extending the log take turns and the later one sees it has moved.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { AuditAppendV1, AuditLeafV1, AuditLogStoreV1, AuditRunHeadV1, AuditTreeHeadV1 } from '../../spec/index.ts';
import type { SqliteBudgetAccess } from './sqlite-budget-book.ts';

// Column values as the migration declares them (TEXT and INTEGER, never blobs).
type Row = Record<string, string | number | bigint | null>;

export class SqliteAuditLog implements AuditLogStoreV1 {
  readonly auditLogSpecificationVersion = 'v1';
  readonly #database: DatabaseSync;
  #statements: ReturnType<typeof prepareAuditStatements> | undefined;
  readonly #access: SqliteBudgetAccess;

  constructor(database: DatabaseSync, access: SqliteBudgetAccess) {
    this.#database = database;
    this.#access = access;
  }

  // Prepared at first use, not with the store: a read command never touches this part.
  get #sql(): ReturnType<typeof prepareAuditStatements> {
    return (this.#statements ??= prepareAuditStatements(this.#database));
  }

  appendAuditEntries(append: AuditAppendV1): Promise<boolean> {
    return this.#access.write(() => {
      const size = Number(this.#sql.treeSize.get()?.size ?? 0);
      if (size !== append.previousTreeSize) return false;
      for (const leaf of append.leaves) this.#sql.insertLeaf.run(leaf.index, leaf.runId, leaf.seq, leaf.eventHash, leaf.anchoredAt);
      const head = append.treeHead;
      this.#sql.insertHead.run(head.treeSize, head.rootHash, head.issuedAt, head.keyId, head.signature, JSON.stringify(head.compactRange));
      return true;
    });
  }

  latestTreeHead(): Promise<AuditTreeHeadV1 | undefined> {
    return this.#access.read(() => {
      const row = this.#sql.latestHead.get();
      return row === undefined ? undefined : toTreeHead(row as Row);
    });
  }

  listTreeHeads(): Promise<AuditTreeHeadV1[]> {
    return this.#access.read(() => this.#sql.heads.all().map((row) => toTreeHead(row as Row)));
  }

  readAuditLeaves(fromIndex = 0, limit?: number): Promise<AuditLeafV1[]> {
    return this.#access.read(() => this.#sql.leaves.all(fromIndex, limit ?? -1).map((row) => toLeaf(row as Row)));
  }

  latestLeafOfRun(runId: string): Promise<AuditLeafV1 | undefined> {
    return this.#access.read(() => {
      const row = this.#sql.latestLeafOfRun.get(runId);
      return row === undefined ? undefined : toLeaf(row as Row);
    });
  }

  listUnanchoredRuns(options: { runIds?: string[]; limit?: number } = {}): Promise<AuditRunHeadV1[]> {
    return this.#access.read(() => {
      const rows = options.runIds === undefined ? this.#sql.unanchored.all(options.limit ?? -1) : options.runIds.flatMap((runId) => this.#sql.unanchoredRun.all(runId));
      return rows.map((row) => ({ runId: String(row.id), seq: Number(row.last_seq), hash: String(row.last_hash) }));
    });
  }
}

function toTreeHead(row: Row): AuditTreeHeadV1 {
  return {
    treeSize: Number(row.tree_size),
    rootHash: String(row.root_hash),
    issuedAt: String(row.issued_at),
    keyId: String(row.key_id),
    signature: String(row.signature),
    compactRange: JSON.parse(String(row.compact_range)) as string[],
  };
}

function toLeaf(row: Row): AuditLeafV1 {
  return { index: Number(row.leaf_index), runId: String(row.run_id), seq: Number(row.seq), eventHash: String(row.event_hash), anchoredAt: String(row.anchored_at) };
}

function prepareAuditStatements(database: DatabaseSync) {
  const prepare = (sql: string): StatementSync => database.prepare(sql);
  // A run's last anchored seq, or 0: audit_leaves_run makes it one index probe per run.
  const anchoredSeq = `COALESCE((SELECT max(seq) FROM audit_leaves WHERE audit_leaves.run_id = runs.id), 0)`;
  // A run's head from its journal: the run row's progress may lag its last appends (sqlite-store.ts).
  const journalHead = `JOIN journal AS head ON head.run_key = runs.key AND head.seq = (SELECT max(seq) FROM journal WHERE run_key = runs.key)`;
  return {
    treeSize: prepare(`SELECT max(tree_size) AS size FROM audit_tree_heads`),
    insertLeaf: prepare(`INSERT INTO audit_leaves (leaf_index, run_id, seq, event_hash, anchored_at) VALUES (?, ?, ?, ?, ?)`),
    insertHead: prepare(`INSERT INTO audit_tree_heads (tree_size, root_hash, issued_at, key_id, signature, compact_range) VALUES (?, ?, ?, ?, ?, ?)`),
    latestHead: prepare(`SELECT * FROM audit_tree_heads ORDER BY tree_size DESC LIMIT 1`),
    heads: prepare(`SELECT * FROM audit_tree_heads ORDER BY tree_size`),
    leaves: prepare(`SELECT * FROM audit_leaves WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?`),
    latestLeafOfRun: prepare(`SELECT * FROM audit_leaves WHERE run_id = ? ORDER BY seq DESC, leaf_index DESC LIMIT 1`),
    unanchored: prepare(`SELECT id, head.seq AS last_seq, head.hash AS last_hash FROM runs ${journalHead} WHERE head.seq > ${anchoredSeq} ORDER BY created_at, id LIMIT ?`),
    unanchoredRun: prepare(`SELECT id, head.seq AS last_seq, head.hash AS last_hash FROM runs ${journalHead} WHERE id = ? AND head.seq > ${anchoredSeq}`),
  };
}
