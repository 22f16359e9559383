/**
 * Deleting ended runs past their retention period from the SQLite file
 * (src/spec/run-retention-store-v1.ts): journal, tags and index row, with secure_delete on: the deleted journal rows' bytes are
 * overwritten in their pages rather than left as free space.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { RetainedRunV1, RunRetentionStoreV1 } from '../../spec/index.ts';

export interface SqliteRunRetentionAccess {
  /** Runs `work` in one write transaction, resolving once it is durable. */
  write: <T>(work: () => T) => Promise<T>;
}

export class SqliteRunRetention implements RunRetentionStoreV1 {
  readonly runRetentionSpecificationVersion = 'v1';
  readonly #database: DatabaseSync;
  readonly #access: SqliteRunRetentionAccess;

  constructor(database: DatabaseSync, access: SqliteRunRetentionAccess) {
    this.#database = database;
    this.#access = access;
  }

  deleteEndedRuns(runs: readonly RetainedRunV1[]): Promise<string[]> {
    if (runs.length === 0) return Promise.resolve([]);
    return this.#access.write(() => {
      const find = this.#database.prepare(`SELECT key FROM runs WHERE id = ? AND (SELECT max(seq) FROM journal WHERE run_key = runs.key) = ? AND status IN ('ok', 'degraded', 'escalated', 'failed')`);
      const journal = this.#database.prepare('DELETE FROM journal WHERE run_key = ?');
      // Before the key goes to the next run created (a rowid), or that run would carry these tags.
      const tags = this.#database.prepare('DELETE FROM run_tags WHERE run_key = ?');
      const index = this.#database.prepare('DELETE FROM runs WHERE key = ?');
      this.#database.exec('PRAGMA secure_delete = ON');
      try {
        return runs.flatMap((run) => {
          const row = find.get(run.runId, run.lastSeq);
          if (row === undefined) return [];
          journal.run(Number(row.key));
          tags.run(Number(row.key));
          index.run(Number(row.key));
          return [run.runId];
        });
      } finally {
        this.#database.exec('PRAGMA secure_delete = OFF');
      }
    });
  }
}
