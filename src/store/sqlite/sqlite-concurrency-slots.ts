/**
 * Concurrency-limit slots in the SQLite file (src/spec/concurrency-store-v1.ts), shared by every
 * process on it: one row per slot held. Each step is one IMMEDIATE transaction (the store's write
 * path), so two processes cannot both take the last slot. Every process on a file shares the
 * machine's clock, which is the store's clock here.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { ConcurrencyStoreV1, SlotGrantV1, SlotRequestV1 } from '../../spec/index.ts';

export interface SqliteConcurrencyAccess {
  /** Runs `work` in one write transaction, resolving once it is durable. */
  write: <T>(work: () => T) => Promise<T>;
}

export class SqliteConcurrencySlots implements ConcurrencyStoreV1 {
  readonly concurrencySpecificationVersion = 'v1';
  readonly #database: DatabaseSync;
  #statements: ReturnType<typeof prepareSlotStatements> | undefined;
  readonly #access: SqliteConcurrencyAccess;

  constructor(database: DatabaseSync, access: SqliteConcurrencyAccess) {
    this.#database = database;
    this.#access = access;
  }

  // Prepared at first use, not with the store: a read command never touches this part.
  get #sql(): ReturnType<typeof prepareSlotStatements> {
    return (this.#statements ??= prepareSlotStatements(this.#database));
  }

  acquireSlot(request: SlotRequestV1): Promise<SlotGrantV1> {
    return this.#access.write(() => {
      const now = Date.now();
      this.#sql.expire.run(request.key, now);
      const held = Number(this.#sql.count.get(request.key)?.held ?? 0);
      const mine = this.#sql.renew.run(now + request.leaseMs, request.key, request.holder).changes > 0;
      if (mine) return { granted: true, held };
      if (held < request.limit) {
        this.#sql.insert.run(request.key, request.holder, now + request.leaseMs);
        return { granted: true, held: held + 1 };
      }
      const earliest = Number(this.#sql.earliest.get(request.key)?.earliest ?? now);
      return { granted: false, held, retryAfterMs: Math.max(0, earliest - now) };
    });
  }

  renewSlot(key: string, holder: string, leaseMs: number): Promise<boolean> {
    return this.#access.write(() => {
      const now = Date.now();
      return this.#sql.renewLive.run(now + leaseMs, key, holder, now).changes > 0;
    });
  }

  releaseSlot(key: string, holder: string): Promise<void> {
    return this.#access.write(() => {
      this.#sql.release.run(key, holder);
    });
  }
}

function prepareSlotStatements(database: DatabaseSync) {
  const prepare = (sql: string): StatementSync => database.prepare(sql);
  return {
    expire: prepare(`DELETE FROM concurrency_slots WHERE limit_key = ? AND expires_ms <= ?`),
    count: prepare(`SELECT count(*) AS held FROM concurrency_slots WHERE limit_key = ?`),
    earliest: prepare(`SELECT min(expires_ms) AS earliest FROM concurrency_slots WHERE limit_key = ?`),
    renew: prepare(`UPDATE concurrency_slots SET expires_ms = ? WHERE limit_key = ? AND holder = ?`),
    renewLive: prepare(`UPDATE concurrency_slots SET expires_ms = ? WHERE limit_key = ? AND holder = ? AND expires_ms > ?`),
    insert: prepare(`INSERT INTO concurrency_slots (limit_key, holder, expires_ms) VALUES (?, ?, ?)`),
    release: prepare(`DELETE FROM concurrency_slots WHERE limit_key = ? AND holder = ?`),
  };
}
