/**
 * Per-subject sealing keys in PostgreSQL (src/spec/subject-key-store-v1.ts), shared by every
 * process on the schema. Destroying a key deletes its row and records the redaction in one
 * transaction, then rewrites the key table (VACUUM FULL): a deleted row stays in its heap page
 * until then, and the rewrite leaves no page of the table holding it. The table is small, so the
 * rewrite's exclusive lock lasts milliseconds. What PostgreSQL keeps elsewhere (WAL segments not yet
 * recycled, base backups, replicas' files) is beyond the store: docs/redaction.md says so.
 */
import type { Pool } from 'pg';
import type { SubjectKeyStoreV1, SubjectKeyV1, SubjectRedactionV1 } from '../../spec/index.ts';
import { toStoreError } from './postgres-errors.ts';

interface KeyRow {
  key_id: string;
  subject: string;
  material: string;
  created_at: Date;
}

interface RedactionRow {
  key_id: string;
  subject: string;
  redacted_at: Date;
  redacted_by: string;
  reason: string;
}

export class PostgresSubjectKeys implements SubjectKeyStoreV1 {
  readonly subjectKeySpecificationVersion = 'v1';
  readonly #pool: Pool;
  readonly #location: string;
  readonly #schema: string;

  constructor(pool: Pool, schema: string, location: string) {
    this.#pool = pool;
    this.#schema = schema;
    this.#location = location;
  }

  async ensureSubjectKeys(proposed: readonly SubjectKeyV1[]): Promise<SubjectKeyV1[]> {
    if (proposed.length === 0) return [];
    const keys = `${this.#schema}.subject_keys`;
    // One statement: insert what is missing, then read every subject's key, the winner's when two raced.
    await this.#query(
      `INSERT INTO ${keys} (key_id, subject, material, created_at) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) ON CONFLICT (subject) DO NOTHING`,
      [proposed.map((key) => key.keyId), proposed.map((key) => key.subject), proposed.map((key) => key.material), proposed.map((key) => key.createdAt)],
      'create subject keys',
    );
    const rows = await this.#query<KeyRow>(`SELECT key_id, subject, material, created_at FROM ${keys} WHERE subject = ANY($1::text[])`, [proposed.map((key) => key.subject)], 'read subject keys');
    const bySubject = new Map(rows.map((row) => [row.subject, keyOf(row)]));
    return proposed.flatMap((key) => bySubject.get(key.subject) ?? []);
  }

  async readSubjectKeys(keyIds: readonly string[]): Promise<SubjectKeyV1[]> {
    if (keyIds.length === 0) return [];
    const rows = await this.#query<KeyRow>(`SELECT key_id, subject, material, created_at FROM ${this.#schema}.subject_keys WHERE key_id = ANY($1::text[])`, [[...keyIds]], 'read subject keys');
    return rows.map(keyOf);
  }

  async readSubjectRedactions(keyIds: readonly string[]): Promise<SubjectRedactionV1[]> {
    if (keyIds.length === 0) return [];
    const rows = await this.#query<RedactionRow>(
      `SELECT key_id, subject, redacted_at, redacted_by, reason FROM ${this.#schema}.subject_redactions WHERE key_id = ANY($1::text[])`,
      [[...keyIds]],
      'read subject redactions',
    );
    return rows.map((row) => ({ subject: row.subject, keyId: row.key_id, redactedAt: row.redacted_at.toISOString(), by: row.redacted_by, reason: row.reason }));
  }

  async knowsSubject(subject: string): Promise<boolean> {
    const rows = await this.#query(
      `SELECT 1 FROM ${this.#schema}.subject_keys WHERE subject = $1 UNION ALL SELECT 1 FROM ${this.#schema}.subject_redactions WHERE subject = $1 LIMIT 1`,
      [subject],
      'look up subject',
    );
    return rows.length > 0;
  }

  async destroySubjectKey(subject: string, record: { by: string; reason: string; at: string }): Promise<(SubjectRedactionV1 & { scrubbed: boolean }) | undefined> {
    const client = await this.#pool.connect().catch((error: unknown) => {
      throw toStoreError(error, `cannot redact subject in ${this.#location}`);
    });
    let redaction: SubjectRedactionV1 | undefined;
    try {
      await client.query('BEGIN');
      const removed = await client.query<{ key_id: string }>(`DELETE FROM ${this.#schema}.subject_keys WHERE subject = $1 RETURNING key_id`, [subject]);
      const keyId = removed.rows[0]?.key_id;
      if (keyId !== undefined) {
        await client.query(`INSERT INTO ${this.#schema}.subject_redactions (key_id, subject, redacted_at, redacted_by, reason) VALUES ($1, $2, $3, $4, $5)`, [keyId, subject, record.at, record.by, record.reason]);
        redaction = { subject, keyId, redactedAt: record.at, by: record.by, reason: record.reason };
      }
      await client.query('COMMIT');
      // Outside the transaction (VACUUM cannot run in one); also on a repeat, to finish an earlier scrub.
      await client.query(`VACUUM FULL ${this.#schema}.subject_keys`);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw toStoreError(error, `cannot redact subject in ${this.#location}`);
    } finally {
      client.release();
    }
    return redaction === undefined ? undefined : { ...redaction, scrubbed: true };
  }

  async #query<Row extends object = Record<string, unknown>>(text: string, values: unknown[], what: string): Promise<Row[]> {
    try {
      return (await this.#pool.query<Row>(text, values)).rows;
    } catch (error) {
      throw toStoreError(error, `cannot ${what} in ${this.#location}`);
    }
  }
}

function keyOf(row: KeyRow): SubjectKeyV1 {
  return { subject: row.subject, keyId: row.key_id, material: row.material, createdAt: row.created_at.toISOString() };
}
