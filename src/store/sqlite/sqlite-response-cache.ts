/**
 * The gateway's response cache in the SQLite file (src/spec/response-cache-store-v1.ts), shared by
 * every process on the file. A write joins the store's group commit without waiting for an
 * fdatasync: a lost entry costs one model call, never a wrong answer. Statements are prepared on
 * first use: a store opened only to read runs never needs them.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { KeelError } from '../../errors/index.ts';
import type { CachedResponseV1, ResponseCacheStoreV1 } from '../../spec/index.ts';

// Deleting expired entries is housekeeping: done at most this often per instance, in the write
// that comes due, instead of a DELETE with every write on a call's path.
const pruneEveryMs = 60_000;

export interface SqliteResponseCacheAccess {
  /** Runs `work` in one write transaction, resolving once it is committed. */
  write: <T>(work: () => T) => Promise<T>;
  /** Runs `work` outside any transaction (reads). */
  read: <T>(work: () => T) => Promise<T>;
}

export class SqliteResponseCache implements ResponseCacheStoreV1 {
  readonly responseCacheSpecificationVersion = 'v1';
  readonly #database: DatabaseSync;
  readonly #access: SqliteResponseCacheAccess;
  #statements: ReturnType<typeof prepareCacheStatements> | undefined;
  /** The storedMs of the write that last deleted expired entries. */
  #prunedAt = Number.NEGATIVE_INFINITY;

  constructor(database: DatabaseSync, access: SqliteResponseCacheAccess) {
    this.#database = database;
    this.#access = access;
  }

  // Prepared at first use, not with the store: a read command never touches this part.
  get #sql(): ReturnType<typeof prepareCacheStatements> {
    return (this.#statements ??= prepareCacheStatements(this.#database));
  }

  readCachedResponse(key: string, nowMs: number): Promise<CachedResponseV1 | undefined> {
    return this.#access.read(() => {
      const row = this.#sql.read.get(key, nowMs);
      if (row === undefined) return undefined;
      if (typeof row.text !== 'string' || typeof row.run_id !== 'string') throw new KeelError('db-unreadable', `response cache entry ${key} is not text`);
      return { text: row.text, runId: row.run_id, storedMs: Number(row.stored_ms), expiresMs: Number(row.expires_ms) };
    });
  }

  writeCachedResponse(key: string, entry: CachedResponseV1): Promise<void> {
    return this.#access.write(() => {
      // The write's own time is its entry's: the store reads no clock of its own, as reads take nowMs.
      const now = entry.storedMs;
      if (Math.abs(now - this.#prunedAt) >= pruneEveryMs) {
        this.#sql.prune.run(now);
        this.#prunedAt = now;
      }
      this.#sql.upsert.run(key, entry.text, entry.runId, entry.storedMs, entry.expiresMs);
    });
  }
}

function prepareCacheStatements(database: DatabaseSync): Record<'read' | 'upsert' | 'prune', StatementSync> {
  return {
    read: database.prepare('SELECT text, run_id, stored_ms, expires_ms FROM response_cache WHERE key = ? AND expires_ms > ?'),
    upsert: database.prepare(
      `INSERT INTO response_cache (key, text, run_id, stored_ms, expires_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET text = excluded.text, run_id = excluded.run_id, stored_ms = excluded.stored_ms, expires_ms = excluded.expires_ms`,
    ),
    prune: database.prepare('DELETE FROM response_cache WHERE expires_ms <= ?'),
  };
}
