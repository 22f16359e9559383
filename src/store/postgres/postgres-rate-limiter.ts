/**
 * Rate-limit windows in PostgreSQL (src/spec/rate-limiter-v1.ts), shared by every process on the
 * schema. Each key keeps one row per call still inside its window, and their count beside them
 * (so a decision reads the count, not the window). An acquisition is one call of the schema's
 * `rate_limit_acquire` function (migrations 4 and 11), one transaction that first takes a
 * transaction-scoped advisory lock per key (in hash order, so two transactions never wait on each
 * other in a cycle): whoever holds a key's lock is the only one pruning, counting and adding to its
 * window until it commits, so two processes cannot both take the last slot. Doing it server-side
 * costs one round trip and holds the locks for no round trip at all. Windows are timed by the
 * database's clock, which every machine shares.
 */
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { RateLimitClockV1, RateLimitDecisionV1, RateLimiterV1, RateLimitRequestV1 } from '../../spec/index.ts';
import { toStoreError } from './postgres-errors.ts';

export class PostgresRateLimiter implements RateLimiterV1 {
  readonly #acquire: string;
  readonly #connect: () => Promise<PoolClient>;
  readonly #location: string;

  /** `connect` checks out a connection (and refuses once the store is closing). */
  constructor(schema: string, location: string, connect: () => Promise<PoolClient>) {
    this.#acquire = `SELECT full_position, wait_ms FROM ${schema}.rate_limit_acquire($1::text[], $2::integer[], $3::bigint[], $4::bigint, $5::text)`;
    this.#location = location;
    this.#connect = connect;
  }

  async acquire(requests: RateLimitRequestV1[], clock?: RateLimitClockV1): Promise<RateLimitDecisionV1> {
    if (requests.length === 0) return { allowed: true };
    let client: PoolClient | undefined;
    try {
      client = await this.#connect();
      const { rows } = await client.query<{ full_position: number; wait_ms: string }>(this.#acquire, [
        requests.map((request) => request.key),
        requests.map((request) => request.limit),
        requests.map((request) => request.windowMs),
        clock?.nowMs ?? null,
        randomUUID(),
      ]);
      const full = rows[0];
      if (full === undefined) return { allowed: true };
      return { allowed: false, key: requests[full.full_position - 1]?.key ?? '', retryAfterMs: Number(full.wait_ms) };
    } catch (error) {
      throw toStoreError(error, `cannot acquire a rate limit in ${this.#location}`);
    } finally {
      client?.release();
    }
  }
}
