/**
 * Budget accounts in the SQLite file (src/spec/budget-store-v1.ts). Each reserve and settle is one
 * IMMEDIATE transaction: SQLite admits one writer at a time, so processes sharing the file take
 * turns, and none can check a limit while another is between its check and its reservation.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type {
  BudgetAccountV1,
  BudgetReservationV1,
  BudgetReserveOutcomeV1,
  BudgetReserveRequestV1,
  BudgetRunReservationV1,
  BudgetSettledScopeV1,
  BudgetSettleRequestV1,
  BudgetStoreV1,
} from '../../spec/index.ts';

// An expired reservation is kept this long for a late settle to correct, then deleted; a
// settlement, this long for readReservation.
const expiredRetentionMs = 24 * 60 * 60 * 1000;
const settledRetentionMs = 24 * 60 * 60 * 1000;
// Forgetting past their retention is housekeeping, not accounting: done at most this often (per
// scope for holds), instead of a DELETE with every reserve and settle on a call's path.
const pruneEveryMs = 60_000;
// Scopes whose last prune is remembered; past this the memory starts over (a scope is pruned again).
const prunedScopesLimit = 4_096;

export interface SqliteBudgetAccess {
  /** Runs `work` in one write transaction, resolving once it is durable. */
  write: <T>(work: () => T) => Promise<T>;
  /**
   * Runs `work` in one write transaction, resolving once it is committed: for settlements. One lost
   * to a power cut leaves its reservation, which expires booked as spent in full (over-charging,
   * never overspending); and the caller's next durable write (its step's or run's end, the next
   * reservation) makes it durable anyway, since the WAL is synced in commit order. Absent: `write`.
   */
  settle?: <T>(work: () => T) => Promise<T>;
  /** Runs `work` outside any transaction (reads). */
  read: <T>(work: () => T) => Promise<T>;
}

export class SqliteBudgetBook implements BudgetStoreV1 {
  readonly budgetSpecificationVersion = 'v1';
  readonly #database: DatabaseSync;
  #statements: ReturnType<typeof prepareBudgetStatements> | undefined;
  readonly #access: SqliteBudgetAccess;
  /** When each scope's long-expired holds were last deleted, and settlements past retention. */
  readonly #holdsPrunedAt = new Map<string, number>();
  #settlementsPrunedAt = Number.NEGATIVE_INFINITY;

  constructor(database: DatabaseSync, access: SqliteBudgetAccess) {
    this.#database = database;
    this.#access = access;
  }

  // Prepared at first use, not with the store: a read command never touches this part.
  get #sql(): ReturnType<typeof prepareBudgetStatements> {
    return (this.#statements ??= prepareBudgetStatements(this.#database));
  }

  reserveBudget(request: BudgetReserveRequestV1): Promise<BudgetReserveOutcomeV1> {
    return this.#access.write((): BudgetReserveOutcomeV1 => {
      const now = request.nowMs ?? Date.now();
      const keys = [...new Set(request.limits.map((limit) => limit.key))];
      for (const key of keys) {
        this.#sql.openAccount.run(key);
        this.#expire(key, now);
      }
      for (const limit of request.limits) {
        const account = this.#sql.account.get(limit.key);
        for (const field of ['micros', 'tokens'] as const) {
          const bound = limit[field];
          if (bound === null) continue;
          const committed = Number(account?.[`spent_${field}`] ?? 0) + Number(account?.[`reserved_${field}`] ?? 0);
          if (committed + request.amount[field] > bound) return { ok: false, key: limit.key, field, committed, limit: bound };
        }
      }
      for (const key of keys) {
        this.#sql.insertHold.run(request.reservationId, key, request.amount.micros, request.amount.tokens, now + request.expiresInMs, request.runId ?? null);
        this.#sql.addReserved.run(request.amount.micros, request.amount.tokens, key);
      }
      return { ok: true };
    });
  }

  settleBudget(request: BudgetSettleRequestV1): Promise<BudgetSettledScopeV1[]> {
    return (this.#access.settle ?? this.#access.write)(() =>
      this.#remember(request, this.#sql.releaseHolds.all(request.reservationId)).map((hold) => {
        const key = String(hold.scope_key);
        const expired = Number(hold.expired) === 1;
        // An expired hold was booked as spent at its full amount: only the difference is added now.
        const spentMicros = request.actual.micros - (expired ? Number(hold.micros) : 0);
        const spentTokens = request.actual.tokens - (expired ? Number(hold.tokens) : 0);
        const row = this.#sql.settle.get(spentMicros, spentTokens, expired ? 0 : Number(hold.micros), expired ? 0 : Number(hold.tokens), key);
        const after = { micros: Number(row?.spent_micros ?? 0), tokens: Number(row?.spent_tokens ?? 0) };
        return { key, before: { micros: after.micros - spentMicros, tokens: after.tokens - spentTokens }, after };
      }),
    );
  }

  readBudget(key: string, nowMs?: number): Promise<BudgetAccountV1> {
    return this.#access.read(() => {
      const account = this.#sql.account.get(key);
      const lapsed = this.#sql.lapsed.get(key, nowMs ?? Date.now());
      const lapsedMicros = Number(lapsed?.micros ?? 0);
      const lapsedTokens = Number(lapsed?.tokens ?? 0);
      return {
        spent: { micros: Number(account?.spent_micros ?? 0) + lapsedMicros, tokens: Number(account?.spent_tokens ?? 0) + lapsedTokens },
        reserved: { micros: Number(account?.reserved_micros ?? 0) - lapsedMicros, tokens: Number(account?.reserved_tokens ?? 0) - lapsedTokens },
      };
    });
  }

  readReservation(reservationId: string): Promise<BudgetReservationV1 | undefined> {
    return this.#access.read(() => {
      const hold = this.#sql.hold.get(reservationId);
      if (hold !== undefined) return { state: 'held', amount: { micros: Number(hold.micros), tokens: Number(hold.tokens) } };
      const settled = this.#sql.settlement.get(reservationId);
      return settled === undefined ? undefined : { state: 'settled', actual: { micros: Number(settled.micros), tokens: Number(settled.tokens) } };
    });
  }

  readRunReservations(runId: string): Promise<BudgetRunReservationV1[]> {
    return this.#access.read(() => {
      const found: BudgetRunReservationV1[] = [];
      // A hold has a row per scope, each of the same amount: one per reservation is listed.
      for (const hold of this.#sql.runHolds.all(runId)) {
        found.push({ reservationId: String(hold.reservation_id), state: 'held', amount: { micros: Number(hold.micros), tokens: Number(hold.tokens) } });
      }
      for (const settled of this.#sql.runSettlements.all(runId)) {
        found.push({ reservationId: String(settled.reservation_id), state: 'settled', actual: { micros: Number(settled.micros), tokens: Number(settled.tokens) } });
      }
      return found;
    });
  }

  /** Records what a reservation was settled at (one it held), and forgets settlements past their retention. */
  #remember<Hold extends { run_id?: unknown }>(request: BudgetSettleRequestV1, released: Hold[]): Hold[] {
    if (released.length === 0) return released;
    const now = Date.now();
    if (Math.abs(now - this.#settlementsPrunedAt) >= pruneEveryMs) {
      this.#sql.pruneSettlements.run(now - settledRetentionMs);
      this.#settlementsPrunedAt = now;
    }
    const runId = released[0]?.run_id;
    this.#sql.recordSettlement.run(request.reservationId, request.actual.micros, request.actual.tokens, now, typeof runId === 'string' ? runId : null);
    return released;
  }

  /** Books the scope's reservations past their expiry as spent, and forgets long-expired ones. */
  #expire(key: string, now: number): void {
    const lapsed = this.#sql.markExpired.all(key, now);
    if (lapsed.length > 0) {
      const micros = lapsed.reduce((sum, hold) => sum + Number(hold.micros), 0);
      const tokens = lapsed.reduce((sum, hold) => sum + Number(hold.tokens), 0);
      this.#sql.bookExpired.run(micros, tokens, micros, tokens, key);
    }
    const prunedAt = this.#holdsPrunedAt.get(key);
    if (prunedAt !== undefined && Math.abs(now - prunedAt) < pruneEveryMs) return;
    this.#sql.pruneExpired.run(key, now - expiredRetentionMs);
    if (this.#holdsPrunedAt.size >= prunedScopesLimit) this.#holdsPrunedAt.clear();
    this.#holdsPrunedAt.set(key, now);
  }
}

function prepareBudgetStatements(database: DatabaseSync) {
  const prepare = (sql: string): StatementSync => database.prepare(sql);
  return {
    openAccount: prepare(`INSERT OR IGNORE INTO budget_accounts (scope_key) VALUES (?)`),
    account: prepare(`SELECT spent_micros, spent_tokens, reserved_micros, reserved_tokens FROM budget_accounts WHERE scope_key = ?`),
    markExpired: prepare(`UPDATE budget_holds SET expired = 1 WHERE scope_key = ? AND expired = 0 AND expires_ms < ? RETURNING micros, tokens`),
    bookExpired: prepare(
      `UPDATE budget_accounts SET spent_micros = spent_micros + ?, spent_tokens = spent_tokens + ?,
       reserved_micros = reserved_micros - ?, reserved_tokens = reserved_tokens - ? WHERE scope_key = ?`,
    ),
    pruneExpired: prepare(`DELETE FROM budget_holds WHERE scope_key = ? AND expired = 1 AND expires_ms < ?`),
    lapsed: prepare(`SELECT sum(micros) AS micros, sum(tokens) AS tokens FROM budget_holds WHERE scope_key = ? AND expired = 0 AND expires_ms < ?`),
    insertHold: prepare(`INSERT INTO budget_holds (reservation_id, scope_key, micros, tokens, expires_ms, run_id) VALUES (?, ?, ?, ?, ?, ?)`),
    addReserved: prepare(`UPDATE budget_accounts SET reserved_micros = reserved_micros + ?, reserved_tokens = reserved_tokens + ? WHERE scope_key = ?`),
    releaseHolds: prepare(`DELETE FROM budget_holds WHERE reservation_id = ? RETURNING scope_key, micros, tokens, expired, run_id`),
    hold: prepare(`SELECT micros, tokens FROM budget_holds WHERE reservation_id = ? LIMIT 1`),
    settlement: prepare(`SELECT micros, tokens FROM budget_settlements WHERE reservation_id = ?`),
    recordSettlement: prepare(`INSERT OR REPLACE INTO budget_settlements (reservation_id, micros, tokens, settled_ms, run_id) VALUES (?, ?, ?, ?, ?)`),
    runHolds: prepare(`SELECT reservation_id, min(micros) AS micros, min(tokens) AS tokens FROM budget_holds WHERE run_id = ? GROUP BY reservation_id`),
    runSettlements: prepare(`SELECT reservation_id, micros, tokens FROM budget_settlements WHERE run_id = ?`),
    pruneSettlements: prepare(`DELETE FROM budget_settlements WHERE settled_ms < ?`),
    settle: prepare(
      `UPDATE budget_accounts SET spent_micros = spent_micros + ?, spent_tokens = spent_tokens + ?,
       reserved_micros = reserved_micros - ?, reserved_tokens = reserved_tokens - ? WHERE scope_key = ?
       RETURNING spent_micros, spent_tokens`,
    ),
  };
}
