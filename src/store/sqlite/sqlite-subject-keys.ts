/**
 * Per-subject sealing keys in the SQLite file (src/spec/subject-key-store-v1.ts). Destroying a key
 * deletes its row with secure_delete on, so SQLite overwrites the freed bytes instead of leaving
 * them in the page, then checkpoints the WAL with TRUNCATE, so no older frame holding the key stays
 * in the -wal file. Statements are prepared on first use.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { SubjectKeyStoreV1, SubjectKeyV1, SubjectRedactionV1 } from '../../spec/index.ts';

export interface SqliteSubjectKeyAccess {
  /** Runs `work` in one write transaction, resolving once it is durable. */
  write: <T>(work: () => T) => Promise<T>;
  /** Runs `work` outside any transaction (reads, checkpoints). */
  read: <T>(work: () => T) => Promise<T>;
}

// A reader holding an old snapshot blocks a truncating checkpoint; a few short tries usually outlast it.
const checkpointAttempts = 20;
const checkpointPauseMs = 50;

export class SqliteSubjectKeys implements SubjectKeyStoreV1 {
  readonly subjectKeySpecificationVersion = 'v1';
  readonly #database: DatabaseSync;
  readonly #access: SqliteSubjectKeyAccess;
  #statements: ReturnType<typeof prepareSubjectKeyStatements> | undefined;

  constructor(database: DatabaseSync, access: SqliteSubjectKeyAccess) {
    this.#database = database;
    this.#access = access;
  }

  ensureSubjectKeys(proposed: readonly SubjectKeyV1[]): Promise<SubjectKeyV1[]> {
    return this.#access.write(() => {
      const sql = this.#sql();
      return proposed.map((key) => {
        sql.insert.run(key.keyId, key.subject, key.material, key.createdAt);
        const row = sql.bySubject.get(key.subject);
        return { subject: key.subject, keyId: String(row?.key_id), material: String(row?.material), createdAt: String(row?.created_at) };
      });
    });
  }

  readSubjectKeys(keyIds: readonly string[]): Promise<SubjectKeyV1[]> {
    return this.#access.read(() =>
      keyIds.flatMap((keyId) => {
        const row = this.#sql().byKeyId.get(keyId);
        return row === undefined ? [] : [{ subject: String(row.subject), keyId: String(row.key_id), material: String(row.material), createdAt: String(row.created_at) }];
      }),
    );
  }

  readSubjectRedactions(keyIds: readonly string[]): Promise<SubjectRedactionV1[]> {
    return this.#access.read(() =>
      keyIds.flatMap((keyId) => {
        const row = this.#sql().redaction.get(keyId);
        return row === undefined ? [] : [{ subject: String(row.subject), keyId: String(row.key_id), redactedAt: String(row.redacted_at), by: String(row.redacted_by), reason: String(row.reason) }];
      }),
    );
  }

  knowsSubject(subject: string): Promise<boolean> {
    return this.#access.read(() => this.#sql().bySubject.get(subject) !== undefined || this.#sql().redactedSubject.get(subject) !== undefined);
  }

  async destroySubjectKey(subject: string, record: { by: string; reason: string; at: string }): Promise<(SubjectRedactionV1 & { scrubbed: boolean }) | undefined> {
    const redaction = await this.#access.write(() => {
      const sql = this.#sql();
      const row = sql.bySubject.get(subject);
      if (row === undefined) return undefined;
      const keyId = String(row.key_id);
      this.#database.exec('PRAGMA secure_delete = ON');
      try {
        sql.remove.run(keyId);
      } finally {
        this.#database.exec('PRAGMA secure_delete = OFF');
      }
      sql.recordRedaction.run(keyId, subject, record.at, record.by, record.reason);
      return { subject, keyId, redactedAt: record.at, by: record.by, reason: record.reason };
    });
    // Also on a repeat, so running the redaction again finishes a scrub a reader held up.
    const scrubbed = await this.#truncateWal();
    return redaction === undefined ? undefined : { ...redaction, scrubbed };
  }

  /** True once the WAL was checkpointed whole and emptied; false when readers kept blocking it. */
  async #truncateWal(): Promise<boolean> {
    for (let attempt = 1; attempt <= checkpointAttempts; attempt += 1) {
      const row = await this.#access.read(() => this.#database.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get());
      // In-memory and rollback-journal databases report -1 frames: nothing to truncate.
      if (row === undefined || Number(row.busy) === 0) return true;
      await new Promise((resolve) => setTimeout(resolve, checkpointPauseMs));
    }
    return false;
  }

  #sql(): ReturnType<typeof prepareSubjectKeyStatements> {
    this.#statements ??= prepareSubjectKeyStatements(this.#database);
    return this.#statements;
  }
}

function prepareSubjectKeyStatements(database: DatabaseSync): Record<'insert' | 'bySubject' | 'byKeyId' | 'redaction' | 'redactedSubject' | 'remove' | 'recordRedaction', StatementSync> {
  return {
    insert: database.prepare('INSERT INTO subject_keys (key_id, subject, material, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (subject) DO NOTHING'),
    bySubject: database.prepare('SELECT key_id, subject, material, created_at FROM subject_keys WHERE subject = ?'),
    byKeyId: database.prepare('SELECT key_id, subject, material, created_at FROM subject_keys WHERE key_id = ?'),
    redaction: database.prepare('SELECT key_id, subject, redacted_at, redacted_by, reason FROM subject_redactions WHERE key_id = ?'),
    redactedSubject: database.prepare('SELECT 1 AS found FROM subject_redactions WHERE subject = ? LIMIT 1'),
    remove: database.prepare('DELETE FROM subject_keys WHERE key_id = ?'),
    recordRedaction: database.prepare('INSERT INTO subject_redactions (key_id, subject, redacted_at, redacted_by, reason) VALUES (?, ?, ?, ?, ?)'),
  };
}
