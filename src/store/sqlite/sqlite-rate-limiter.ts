/**
 * Rate-limit windows in the SQLite file (src/spec/rate-limiter-v1.ts), shared by every process on
 * it. Each key keeps one row per call still inside its window, and their count beside them. An
 * acquisition is one IMMEDIATE transaction (prune, count, and add to every key or none), so two
 * processes cannot both take a window's last slot: SQLite admits one writer at a time. Times are
 * this machine's clock, which every process on one file shares.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { RateLimitClockV1, RateLimitDecisionV1, RateLimiterV1, RateLimitRequestV1 } from '../../spec/index.ts';

export interface SqliteLimitsAccess {
  /** Runs `work` in one write transaction, resolving once it is durable. */
  write: <T>(work: () => T) => Promise<T>;
}

export class SqliteRateLimiter implements RateLimiterV1 {
  readonly #database: DatabaseSync;
  #statements: ReturnType<typeof prepareRateLimitStatements> | undefined;
  readonly #access: SqliteLimitsAccess;

  constructor(database: DatabaseSync, access: SqliteLimitsAccess) {
    this.#database = database;
    this.#access = access;
  }

  // Prepared at first use, not with the store: a read command never touches this part.
  get #sql(): ReturnType<typeof prepareRateLimitStatements> {
    return (this.#statements ??= prepareRateLimitStatements(this.#database));
  }

  acquire(requests: RateLimitRequestV1[], clock?: RateLimitClockV1): Promise<RateLimitDecisionV1> {
    return this.#access.write((): RateLimitDecisionV1 => {
      const now = clock?.nowMs ?? Date.now();
      for (const request of requests) {
        const cutoff = now - request.windowMs;
        const pruned = Number(this.#sql.prune.run(request.key, cutoff).changes);
        if (pruned > 0) this.#sql.subtract.run(pruned, request.key);
        let hits = Number(this.#sql.count.get(request.key)?.hits ?? 0);
        // Rows a process of an older Keel added without counting them: count the window once.
        if (hits < 0) hits = this.#recount(request.key);
        if (hits < request.limit) continue;
        // The call whose expiry frees a slot is the one `limit` places from the newest: counted from
        // the oldest, it is the (hits - limit)th, usually the oldest itself.
        const freeing = this.#sql.freeing.get(request.key, cutoff, hits - request.limit);
        return { allowed: false, key: request.key, retryAfterMs: Math.max(1, Number(freeing?.hit_ms ?? now) + request.windowMs - now) };
      }
      // node:crypto is loaded at the first hit, not with every store: `keel runs` would pay ~5 ms for it.
      const hit = process.getBuiltinModule('node:crypto').randomUUID();
      for (const request of requests) {
        // One call naming a key twice counts once against it.
        if (Number(this.#sql.insert.run(request.key, now, hit).changes) > 0) this.#sql.add.run(request.key);
      }
      return { allowed: true };
    });
  }

  #recount(key: string): number {
    const hits = Number(this.#sql.countRows.get(key)?.hits ?? 0);
    this.#sql.setCount.run(key, hits);
    return hits;
  }
}

function prepareRateLimitStatements(database: DatabaseSync) {
  const prepare = (sql: string): StatementSync => database.prepare(sql);
  return {
    prune: prepare(`DELETE FROM rate_limit_hits WHERE limit_key = ? AND hit_ms <= ?`),
    subtract: prepare(`UPDATE rate_limit_counts SET hits = hits - ? WHERE limit_key = ?`),
    count: prepare(`SELECT hits FROM rate_limit_counts WHERE limit_key = ?`),
    freeing: prepare(`SELECT hit_ms FROM rate_limit_hits WHERE limit_key = ? AND hit_ms > ? ORDER BY hit_ms ASC LIMIT 1 OFFSET ?`),
    insert: prepare(`INSERT OR IGNORE INTO rate_limit_hits (limit_key, hit_ms, hit_id) VALUES (?, ?, ?)`),
    countRows: prepare(`SELECT count(*) AS hits FROM rate_limit_hits WHERE limit_key = ?`),
    setCount: prepare(`INSERT INTO rate_limit_counts (limit_key, hits) VALUES (?, ?) ON CONFLICT (limit_key) DO UPDATE SET hits = excluded.hits`),
    add: prepare(`INSERT INTO rate_limit_counts (limit_key, hits) VALUES (?, 1) ON CONFLICT (limit_key) DO UPDATE SET hits = hits + 1`),
  };
}
