/**
 * The gateway's response cache in PostgreSQL (src/spec/response-cache-store-v1.ts), shared by
 * every process on the schema. A write is one statement: the upsert, and when the instance's prune
 * comes due, the deletion of expired entries with it.
 */
import type { Pool } from 'pg';
import type { CachedResponseV1, ResponseCacheStoreV1 } from '../../spec/index.ts';
import { toStoreError } from './postgres-errors.ts';

// Deleting expired entries is housekeeping: done at most this often per instance, in the write
// that comes due, instead of a DELETE with every write on a call's path.
const pruneEveryMs = 60_000;

interface CacheRow {
  text: string;
  run_id: string;
  stored_ms: string;
  expires_ms: string;
}

export class PostgresResponseCache implements ResponseCacheStoreV1 {
  readonly responseCacheSpecificationVersion = 'v1';
  readonly #pool: Pool;
  readonly #location: string;
  readonly #sql: ReturnType<typeof cacheStatements>;
  /** The storedMs of the write that last deleted expired entries. */
  #prunedAt = Number.NEGATIVE_INFINITY;

  constructor(pool: Pool, schema: string, location: string) {
    this.#pool = pool;
    this.#location = location;
    this.#sql = cacheStatements(schema);
  }

  async readCachedResponse(key: string, nowMs: number): Promise<CachedResponseV1 | undefined> {
    const row = (await this.#query<CacheRow>('keel-read-cached-response', this.#sql.read, [key, nowMs], 'read cached response')).at(0);
    // bigint columns arrive as text; milliseconds since the epoch are well within a double's integers.
    return row === undefined ? undefined : { text: row.text, runId: row.run_id, storedMs: Number(row.stored_ms), expiresMs: Number(row.expires_ms) };
  }

  async writeCachedResponse(key: string, entry: CachedResponseV1): Promise<void> {
    // The write's own time is its entry's: the store reads no clock of its own, as reads take nowMs.
    const now = entry.storedMs;
    const prune = Math.abs(now - this.#prunedAt) >= pruneEveryMs;
    if (prune) this.#prunedAt = now;
    const values = [key, entry.text, entry.runId, entry.storedMs, entry.expiresMs];
    if (prune) await this.#query('keel-write-cached-response-and-prune', this.#sql.upsertAndPrune, values, 'write cached response');
    else await this.#query('keel-write-cached-response', this.#sql.upsert, values, 'write cached response');
  }

  async #query<Row extends object>(name: string, text: string, values: unknown[], what: string): Promise<Row[]> {
    try {
      return (await this.#pool.query<Row>({ name, text, values })).rows;
    } catch (error) {
      throw toStoreError(error, `cannot ${what} in ${this.#location}`);
    }
  }
}

function cacheStatements(schema: string) {
  const cache = `${schema}.response_cache`;
  const upsert = `INSERT INTO ${cache} (key, text, run_id, stored_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (key) DO UPDATE SET text = excluded.text, run_id = excluded.run_id, stored_ms = excluded.stored_ms, expires_ms = excluded.expires_ms`;
  return {
    read: `SELECT text, run_id, stored_ms, expires_ms FROM ${cache} WHERE key = $1 AND expires_ms > $2`,
    upsert,
    // The entry being written is left out of the deletion: a statement must not change one row
    // twice (the DELETE and the upsert's update), or PostgreSQL may keep either change.
    upsertAndPrune: `WITH pruned AS (DELETE FROM ${cache} WHERE expires_ms <= $4 AND key <> $1) ${upsert}`,
  };
}
