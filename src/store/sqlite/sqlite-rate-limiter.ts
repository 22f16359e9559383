/**
 * Rate-limit windows in the SQLite file (src/spec/rate-limiter-v1.ts), shared by every process on
 * it. Each key keeps one row per call still inside its window. An acquisition is one IMMEDIATE
 * transaction (prune, count, and add to every key or none), so two processes cannot both take a
 * window's last slot: SQLite admits one writer at a time. Times are this machine's clock, which
 * every process on one file shares.
 */
import { randomUUID } from 'node:crypto';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { RateLimitClockV1, RateLimitDecisionV1, RateLimiterV1, RateLimitRequestV1 } from '../../spec/index.ts';

export interface SqliteLimitsAccess {
  /** Runs `work` in one write transaction, resolving once it is durable. */
  write: <T>(work: () => T) => Promise<T>;
}

export class SqliteRateLimiter implements RateLimiterV1 {
  readonly #sql: ReturnType<typeof prepareRateLimitStatements>;
  readonly #access: SqliteLimitsAccess;

  constructor(database: DatabaseSync, access: SqliteLimitsAccess) {
    this.#sql = prepareRateLimitStatements(database);
    this.#access = access;
  }

  acquire(requests: RateLimitRequestV1[], clock?: RateLimitClockV1): Promise<RateLimitDecisionV1> {
    return this.#access.write((): RateLimitDecisionV1 => {
      const now = clock?.nowMs ?? Date.now();
      for (const request of requests) {
        this.#sql.prune.run(request.key, now - request.windowMs);
        // The call whose expiry frees a slot is the one `limit` places from the newest.
        const freeing = this.#sql.freeing.get(request.key, now - request.windowMs, request.limit - 1);
        if (freeing !== undefined) return { allowed: false, key: request.key, retryAfterMs: Math.max(1, Number(freeing.hit_ms) + request.windowMs - now) };
      }
      const hit = randomUUID();
      for (const request of requests) this.#sql.insert.run(request.key, now, hit);
      return { allowed: true };
    });
  }
}

function prepareRateLimitStatements(database: DatabaseSync) {
  const prepare = (sql: string): StatementSync => database.prepare(sql);
  return {
    prune: prepare(`DELETE FROM rate_limit_hits WHERE limit_key = ? AND hit_ms <= ?`),
    freeing: prepare(`SELECT hit_ms FROM rate_limit_hits WHERE limit_key = ? AND hit_ms > ? ORDER BY hit_ms DESC LIMIT 1 OFFSET ?`),
    // OR IGNORE: one call naming a key twice counts once against it.
    insert: prepare(`INSERT OR IGNORE INTO rate_limit_hits (limit_key, hit_ms, hit_id) VALUES (?, ?, ?)`),
  };
}
