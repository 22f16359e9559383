/**
 * The audit log's leaves and tree heads in PostgreSQL (src/spec/audit-log-store-v1.ts), shared by
 * every process on the schema. An append is one transaction: it checks the log's size, then
 * inserts the leaves and the head. Two appenders extending the same tree both insert its next leaf
 * index; the primary key makes the second wait for the first and then fail, so it writes nothing
 * and reports that the log moved.
 */
import type { Pool, PoolClient } from 'pg';
import type { AuditAppendV1, AuditLeafV1, AuditLogStoreV1, AuditRunHeadV1, AuditTreeHeadV1 } from '../../spec/index.ts';
import { isUniqueViolation, toStoreError } from './postgres-errors.ts';

interface LeafRow {
  leaf_index: string;
  run_id: string;
  seq: number;
  event_hash: string;
  anchored_at: string;
}

interface TreeHeadRow {
  tree_size: string;
  root_hash: string;
  issued_at: string;
  key_id: string;
  signature: string;
  compact_range: string;
}

interface RunHeadRow {
  id: string;
  last_seq: number;
  last_hash: string;
}

export class PostgresAuditLog implements AuditLogStoreV1 {
  readonly auditLogSpecificationVersion = 'v1';
  readonly #sql: ReturnType<typeof auditStatements>;
  readonly #pool: Pool;
  readonly #connect: () => Promise<PoolClient>;
  readonly #location: string;

  /** `connect` checks out a connection (and refuses once the store is closing). */
  constructor(pool: Pool, schema: string, location: string, connect: () => Promise<PoolClient>) {
    this.#pool = pool;
    this.#sql = auditStatements(schema);
    this.#location = location;
    this.#connect = connect;
  }

  async appendAuditEntries(append: AuditAppendV1): Promise<boolean> {
    let client: PoolClient;
    try {
      client = await this.#connect();
    } catch (error) {
      throw toStoreError(error, `cannot append to the audit log in ${this.#location}`);
    }
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ size: string | null }>(this.#sql.treeSize);
      if (Number(rows[0]?.size ?? 0) !== append.previousTreeSize) {
        await client.query('ROLLBACK');
        return false;
      }
      const { leaves, treeHead: head } = append;
      await client.query(this.#sql.insertLeaves, [
        leaves.map((leaf) => leaf.index),
        leaves.map((leaf) => leaf.runId),
        leaves.map((leaf) => leaf.seq),
        leaves.map((leaf) => leaf.eventHash),
        leaves.map((leaf) => leaf.anchoredAt),
      ]);
      await client.query(this.#sql.insertHead, [head.treeSize, head.rootHash, head.issuedAt, head.keyId, head.signature, JSON.stringify(head.compactRange)]);
      await client.query('COMMIT');
      return true;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (isUniqueViolation(error)) return false;
      throw toStoreError(error, `cannot append to the audit log in ${this.#location}`);
    } finally {
      client.release();
    }
  }

  async latestTreeHead(): Promise<AuditTreeHeadV1 | undefined> {
    const [row] = await this.#query<TreeHeadRow>(this.#sql.latestHead, []);
    return row === undefined ? undefined : toTreeHead(row);
  }

  async listTreeHeads(): Promise<AuditTreeHeadV1[]> {
    return (await this.#query<TreeHeadRow>(this.#sql.heads, [])).map(toTreeHead);
  }

  async readAuditLeaves(fromIndex = 0, limit?: number): Promise<AuditLeafV1[]> {
    return (await this.#query<LeafRow>(this.#sql.leaves, [fromIndex, limit ?? null])).map(toLeaf);
  }

  async latestLeafOfRun(runId: string): Promise<AuditLeafV1 | undefined> {
    const [row] = await this.#query<LeafRow>(this.#sql.latestLeafOfRun, [runId]);
    return row === undefined ? undefined : toLeaf(row);
  }

  async listUnanchoredRuns(options: { runIds?: string[]; limit?: number } = {}): Promise<AuditRunHeadV1[]> {
    const rows =
      options.runIds === undefined
        ? await this.#query<RunHeadRow>(this.#sql.unanchored, [options.limit ?? null])
        : await this.#query<RunHeadRow>(this.#sql.unanchoredRuns, [options.runIds]);
    return rows.map((row) => ({ runId: row.id, seq: row.last_seq, hash: row.last_hash }));
  }

  async #query<Row extends object>(text: string, values: unknown[]): Promise<Row[]> {
    try {
      return (await this.#pool.query<Row>(text, values)).rows;
    } catch (error) {
      throw toStoreError(error, `cannot read the audit log in ${this.#location}`);
    }
  }
}

function toTreeHead(row: TreeHeadRow): AuditTreeHeadV1 {
  return {
    treeSize: Number(row.tree_size),
    rootHash: row.root_hash,
    issuedAt: row.issued_at,
    keyId: row.key_id,
    signature: row.signature,
    compactRange: JSON.parse(row.compact_range) as string[],
  };
}

function toLeaf(row: LeafRow): AuditLeafV1 {
  return { index: Number(row.leaf_index), runId: row.run_id, seq: row.seq, eventHash: row.event_hash, anchoredAt: row.anchored_at };
}

function auditStatements(schema: string) {
  const leaves = `${schema}.audit_leaves`;
  const heads = `${schema}.audit_tree_heads`;
  const runs = `${schema}.runs`;
  // A run's last anchored seq, or 0: audit_leaves_run makes it one index probe per run.
  const anchoredSeq = `COALESCE((SELECT max(seq) FROM ${leaves} AS leaf WHERE leaf.run_id = runs.id), 0)`;
  return {
    treeSize: `SELECT max(tree_size) AS size FROM ${heads}`,
    insertLeaves: `INSERT INTO ${leaves} (leaf_index, run_id, seq, event_hash, anchored_at)
      SELECT * FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::text[], $5::text[])`,
    insertHead: `INSERT INTO ${heads} (tree_size, root_hash, issued_at, key_id, signature, compact_range) VALUES ($1, $2, $3, $4, $5, $6)`,
    latestHead: `SELECT * FROM ${heads} ORDER BY tree_size DESC LIMIT 1`,
    heads: `SELECT * FROM ${heads} ORDER BY tree_size`,
    leaves: `SELECT * FROM ${leaves} WHERE leaf_index >= $1 ORDER BY leaf_index LIMIT $2`,
    latestLeafOfRun: `SELECT * FROM ${leaves} WHERE run_id = $1 ORDER BY seq DESC, leaf_index DESC LIMIT 1`,
    unanchored: `SELECT id, last_seq, last_hash FROM ${runs} AS runs WHERE last_seq > ${anchoredSeq} ORDER BY created_at, id LIMIT $1`,
    unanchoredRuns: `SELECT id, last_seq, last_hash FROM ${runs} AS runs WHERE id = ANY ($1::text[]) AND last_seq > ${anchoredSeq} ORDER BY created_at, id`,
  };
}
