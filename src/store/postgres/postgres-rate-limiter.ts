/**
 * Rate-limit windows in PostgreSQL (src/spec/rate-limiter-v1.ts), shared by every process on the
 * schema. Each key keeps one row per call still inside its window. An acquisition is one
 * transaction that first takes a transaction-scoped advisory lock per key (in hash order, so two
 * transactions never wait on each other in a cycle): whoever holds a key's lock is the only one
 * counting and adding to its window until it commits, so two processes cannot both take the last
 * slot. Windows are timed by the database's clock, which every machine shares.
 */
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { RateLimitClockV1, RateLimitDecisionV1, RateLimiterV1, RateLimitRequestV1 } from '../../spec/index.ts';
import { toStoreError } from './postgres-errors.ts';

// Pairs with each key's hash as the advisory lock key ('klim' in ASCII), apart from other locks.
const rateLimitLockNamespace = 0x6b6c696d;

export class PostgresRateLimiter implements RateLimiterV1 {
  readonly #sql: ReturnType<typeof rateLimitStatements>;
  readonly #connect: () => Promise<PoolClient>;
  readonly #location: string;

  /** `connect` checks out a connection (and refuses once the store is closing). */
  constructor(schema: string, location: string, connect: () => Promise<PoolClient>) {
    this.#sql = rateLimitStatements(schema);
    this.#location = location;
    this.#connect = connect;
  }

  async acquire(requests: RateLimitRequestV1[], clock?: RateLimitClockV1): Promise<RateLimitDecisionV1> {
    if (requests.length === 0) return { allowed: true };
    let client: PoolClient;
    try {
      client = await this.#connect();
    } catch (error) {
      throw toStoreError(error, `cannot acquire a rate limit in ${this.#location}`);
    }
    try {
      await client.query('BEGIN');
      const keys = requests.map((request) => request.key);
      await client.query(this.#sql.lock, [rateLimitLockNamespace, keys]);
      const { rows } = await client.query<{ position: number; retry_after_ms: string | null }>(this.#sql.acquire, [
        keys,
        requests.map((request) => request.limit),
        requests.map((request) => request.windowMs),
        clock?.nowMs ?? null,
        randomUUID(),
      ]);
      await client.query('COMMIT');
      const full = rows[0];
      if (full === undefined) return { allowed: true };
      return { allowed: false, key: requests[full.position - 1]?.key ?? '', retryAfterMs: Math.max(1, Number(full.retry_after_ms)) };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw toStoreError(error, `cannot acquire a rate limit in ${this.#location}`);
    } finally {
      client.release();
    }
  }
}

function rateLimitStatements(schema: string) {
  const hits = `${schema}.rate_limit_hits`;
  return {
    lock: `SELECT count(pg_advisory_xact_lock($1::integer, hashed)) FROM (SELECT DISTINCT hashtext(key) AS hashed FROM unnest($2::text[]) AS key ORDER BY hashed OFFSET 0) AS ordered`,
    // One statement: prune each key's window, find the first full one (its freeing call is the one
    // `limit` places from the newest), and add the call to every key only when none is full. The
    // statement's CTEs share one snapshot, so the count filters by time itself rather than relying
    // on the prune.
    acquire: `
      WITH clock AS (SELECT coalesce($4::bigint, (extract(epoch FROM clock_timestamp()) * 1000)::bigint) AS now),
      requests AS (SELECT * FROM unnest($1::text[], $2::integer[], $3::bigint[]) WITH ORDINALITY AS request(key, size, window_ms, position)),
      pruned AS (
        DELETE FROM ${hits} AS hit USING requests, clock
        WHERE hit.limit_key = requests.key AND hit.hit_ms <= clock.now - requests.window_ms RETURNING 1),
      ranked AS (
        SELECT requests.position, requests.size, hit.hit_ms + requests.window_ms - clock.now AS retry_after_ms,
          row_number() OVER (PARTITION BY requests.position ORDER BY hit.hit_ms DESC) AS newest
        FROM requests JOIN ${hits} AS hit ON hit.limit_key = requests.key, clock
        WHERE hit.hit_ms > clock.now - requests.window_ms),
      full_window AS (SELECT position, retry_after_ms FROM ranked WHERE newest = size ORDER BY position LIMIT 1),
      added AS (
        INSERT INTO ${hits} (limit_key, hit_ms, hit_id)
        SELECT DISTINCT requests.key, clock.now, $5::text FROM requests, clock WHERE NOT EXISTS (SELECT 1 FROM full_window)
        RETURNING 1)
      SELECT position::integer AS position, retry_after_ms, (SELECT count(*) FROM pruned) AS pruned, (SELECT count(*) FROM added) AS added FROM full_window`,
  };
}
