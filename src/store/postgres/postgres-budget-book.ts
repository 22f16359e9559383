/**
 * Budget accounts in PostgreSQL (src/spec/budget-store-v1.ts), shared by every process on the
 * schema. A reserve or settle is one transaction that first locks the account rows of its scopes
 * (FOR UPDATE, in key order so two transactions never wait on each other in a cycle): whoever
 * holds them is the only one checking or changing those scopes until it commits, so concurrent
 * processes cannot together overshoot a limit.
 */
import type { Pool, PoolClient } from 'pg';
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
import { toStoreError } from './postgres-errors.ts';

// An expired reservation is kept this long for a late settle to correct, then deleted; a
// settlement, this long for readReservation.
const expiredRetentionMs = 24 * 60 * 60 * 1000;
const settledRetentionMs = 24 * 60 * 60 * 1000;

// The database's clock in epoch milliseconds, unless the caller brought its own.
const nowMs = (parameter: string): string => `coalesce(${parameter}::bigint, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)`;

interface AccountRow {
  scope_key: string;
  spent_micros: string;
  spent_tokens: string;
  reserved_micros: string;
  reserved_tokens: string;
}

export class PostgresBudgetBook implements BudgetStoreV1 {
  readonly budgetSpecificationVersion = 'v1';
  readonly #sql: ReturnType<typeof budgetStatements>;
  readonly #connect: () => Promise<PoolClient>;
  readonly #location: string;
  readonly #pool: Pool;

  /** `connect` checks out a connection (and refuses once the store is closing). */
  constructor(pool: Pool, schema: string, location: string, connect: () => Promise<PoolClient>) {
    this.#pool = pool;
    this.#sql = budgetStatements(schema);
    this.#location = location;
    this.#connect = connect;
  }

  async reserveBudget(request: BudgetReserveRequestV1): Promise<BudgetReserveOutcomeV1> {
    const keys = [...new Set(request.limits.map((limit) => limit.key))].sort();
    return this.#transaction('reserve budget', async (client) => {
      await client.query(this.#sql.openAccounts, [keys]);
      await client.query(this.#sql.lockAccounts, [keys]);
      const { rows } = await client.query<{ now: string }>(this.#sql.expire, [keys, request.nowMs ?? null, expiredRetentionMs]);
      const now = Number(rows[0]?.now);
      const accounts = new Map((await client.query<AccountRow>(this.#sql.accounts, [keys])).rows.map((row) => [row.scope_key, row]));
      for (const limit of request.limits) {
        const account = accounts.get(limit.key);
        for (const field of ['micros', 'tokens'] as const) {
          const bound = limit[field];
          if (bound === null) continue;
          const committed = Number(account?.[`spent_${field}`] ?? 0) + Number(account?.[`reserved_${field}`] ?? 0);
          // Refused: what the expiry booked is still committed, since it is true whatever happens next.
          if (committed + request.amount[field] > bound) return { ok: false, key: limit.key, field, committed, limit: bound };
        }
      }
      await client.query(this.#sql.hold, [keys, request.reservationId, request.amount.micros, request.amount.tokens, now + request.expiresInMs, request.runId ?? null]);
      return { ok: true };
    });
  }

  async settleBudget(request: BudgetSettleRequestV1): Promise<BudgetSettledScopeV1[]> {
    return this.#transaction('settle budget', async (client) => {
      await client.query(this.#sql.lockReservationAccounts, [request.reservationId]);
      const { rows } = await client.query<{ scope_key: string; spent_micros: string; spent_tokens: string; added_micros: string; added_tokens: string }>(this.#sql.settle, [
        request.reservationId,
        request.actual.micros,
        request.actual.tokens,
        settledRetentionMs,
      ]);
      return rows.map((row) => {
        const after = { micros: Number(row.spent_micros), tokens: Number(row.spent_tokens) };
        return { key: row.scope_key, before: { micros: after.micros - Number(row.added_micros), tokens: after.tokens - Number(row.added_tokens) }, after };
      });
    });
  }

  async readBudget(key: string, at?: number): Promise<BudgetAccountV1> {
    let row: Omit<AccountRow, 'scope_key'> | undefined;
    try {
      row = (await this.#pool.query<Omit<AccountRow, 'scope_key'>>(this.#sql.read, [key, at ?? null])).rows[0];
    } catch (error) {
      throw toStoreError(error, `cannot read budget in ${this.#location}`);
    }
    return {
      spent: { micros: Number(row?.spent_micros ?? 0), tokens: Number(row?.spent_tokens ?? 0) },
      reserved: { micros: Number(row?.reserved_micros ?? 0), tokens: Number(row?.reserved_tokens ?? 0) },
    };
  }

  async readReservation(reservationId: string): Promise<BudgetReservationV1 | undefined> {
    let rows: { state: 'held' | 'settled'; micros: string; tokens: string }[];
    try {
      ({ rows } = await this.#pool.query<{ state: 'held' | 'settled'; micros: string; tokens: string }>(this.#sql.reservation, [reservationId]));
    } catch (error) {
      throw toStoreError(error, `cannot read budget reservation in ${this.#location}`);
    }
    const row = rows.find((candidate) => candidate.state === 'held') ?? rows[0];
    if (row === undefined) return undefined;
    const amount = { micros: Number(row.micros), tokens: Number(row.tokens) };
    return row.state === 'held' ? { state: 'held', amount } : { state: 'settled', actual: amount };
  }

  async readRunReservations(runId: string): Promise<BudgetRunReservationV1[]> {
    let rows: { reservation_id: string; state: 'held' | 'settled'; micros: string; tokens: string }[];
    try {
      ({ rows } = await this.#pool.query<{ reservation_id: string; state: 'held' | 'settled'; micros: string; tokens: string }>(this.#sql.runReservations, [runId]));
    } catch (error) {
      throw toStoreError(error, `cannot read the budget reservations of run ${runId} in ${this.#location}`);
    }
    return rows.map((row): BudgetRunReservationV1 => {
      const amount = { micros: Number(row.micros), tokens: Number(row.tokens) };
      return row.state === 'held' ? { reservationId: row.reservation_id, state: 'held', amount } : { reservationId: row.reservation_id, state: 'settled', actual: amount };
    });
  }

  async #transaction<T>(what: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.#connect();
    } catch (error) {
      throw toStoreError(error, `cannot ${what} in ${this.#location}`);
    }
    try {
      await client.query('BEGIN');
      const value = await work(client);
      await client.query('COMMIT');
      return value;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw toStoreError(error, `cannot ${what} in ${this.#location}`);
    } finally {
      client.release();
    }
  }
}

function budgetStatements(schema: string) {
  const accounts = `${schema}.budget_accounts`;
  const holds = `${schema}.budget_holds`;
  const settlements = `${schema}.budget_settlements`;
  return {
    openAccounts: `INSERT INTO ${accounts} (scope_key) SELECT key FROM unnest($1::text[]) AS key ORDER BY key ON CONFLICT DO NOTHING`,
    lockAccounts: `SELECT scope_key FROM ${accounts} WHERE scope_key = ANY ($1::text[]) ORDER BY scope_key FOR UPDATE`,
    // Reservations past their expiry become spend at their full amount; long-expired ones go.
    expire: `
      WITH clock AS (SELECT ${nowMs('$2')} AS now),
      lapsed AS (
        UPDATE ${holds} SET expired = true
        WHERE scope_key = ANY ($1::text[]) AND NOT expired AND expires_ms < (SELECT now FROM clock)
        RETURNING scope_key, micros, tokens),
      totals AS (SELECT scope_key, sum(micros) AS micros, sum(tokens) AS tokens FROM lapsed GROUP BY scope_key),
      booked AS (
        UPDATE ${accounts} AS account SET spent_micros = account.spent_micros + totals.micros, spent_tokens = account.spent_tokens + totals.tokens,
          reserved_micros = account.reserved_micros - totals.micros, reserved_tokens = account.reserved_tokens - totals.tokens
        FROM totals WHERE account.scope_key = totals.scope_key RETURNING account.scope_key),
      pruned AS (
        DELETE FROM ${holds} WHERE scope_key = ANY ($1::text[]) AND expired AND expires_ms < (SELECT now FROM clock) - $3::bigint RETURNING 1)
      SELECT now, (SELECT count(*) FROM booked) AS booked, (SELECT count(*) FROM pruned) AS pruned FROM clock`,
    accounts: `SELECT scope_key, spent_micros, spent_tokens, reserved_micros, reserved_tokens FROM ${accounts} WHERE scope_key = ANY ($1::text[])`,
    hold: `
      WITH held AS (
        INSERT INTO ${holds} (reservation_id, scope_key, micros, tokens, expires_ms, run_id)
        SELECT $2, key, $3, $4, $5, $6 FROM unnest($1::text[]) AS key RETURNING scope_key)
      UPDATE ${accounts} SET reserved_micros = reserved_micros + $3, reserved_tokens = reserved_tokens + $4
      WHERE scope_key IN (SELECT scope_key FROM held)`,
    lockReservationAccounts: `SELECT scope_key FROM ${accounts} WHERE scope_key IN (SELECT scope_key FROM ${holds} WHERE reservation_id = $1) ORDER BY scope_key FOR UPDATE`,
    // An expired hold was booked at its full amount already: only the difference is added now. What
    // it settled at is kept for readReservation; settlements past their retention go, skipping rows
    // a concurrent settle is pruning rather than waiting for it.
    settle: `
      WITH released AS (DELETE FROM ${holds} WHERE reservation_id = $1 RETURNING scope_key, micros, tokens, expired, run_id),
      clock AS (SELECT ${nowMs('NULL')} AS now),
      recorded AS (
        INSERT INTO ${settlements} (reservation_id, micros, tokens, settled_ms, run_id)
        SELECT $1, $2::bigint, $3::bigint, (SELECT now FROM clock), (SELECT max(run_id) FROM released) WHERE EXISTS (SELECT 1 FROM released)
        ON CONFLICT (reservation_id) DO NOTHING RETURNING 1),
      pruned AS (
        DELETE FROM ${settlements} WHERE reservation_id IN (
          SELECT reservation_id FROM ${settlements} WHERE settled_ms < (SELECT now FROM clock) - $4::bigint
          ORDER BY settled_ms LIMIT 100 FOR UPDATE SKIP LOCKED) RETURNING 1),
      changes AS (
        SELECT scope_key,
          $2::bigint - CASE WHEN expired THEN micros ELSE 0 END AS added_micros,
          $3::bigint - CASE WHEN expired THEN tokens ELSE 0 END AS added_tokens,
          CASE WHEN expired THEN 0 ELSE micros END AS released_micros,
          CASE WHEN expired THEN 0 ELSE tokens END AS released_tokens
        FROM released)
      UPDATE ${accounts} AS account SET
        spent_micros = account.spent_micros + changes.added_micros, spent_tokens = account.spent_tokens + changes.added_tokens,
        reserved_micros = account.reserved_micros - changes.released_micros, reserved_tokens = account.reserved_tokens - changes.released_tokens
      FROM changes WHERE account.scope_key = changes.scope_key
      RETURNING account.scope_key, account.spent_micros, account.spent_tokens, changes.added_micros, changes.added_tokens`,
    reservation: `
      SELECT 'held' AS state, micros, tokens FROM ${holds} WHERE reservation_id = $1
      UNION ALL SELECT 'settled' AS state, micros, tokens FROM ${settlements} WHERE reservation_id = $1`,
    // A hold has a row per scope, each of the same amount: one per reservation is listed.
    runReservations: `
      SELECT reservation_id, 'held' AS state, min(micros) AS micros, min(tokens) AS tokens FROM ${holds} WHERE run_id = $1 GROUP BY reservation_id
      UNION ALL SELECT reservation_id, 'settled' AS state, micros, tokens FROM ${settlements} WHERE run_id = $1`,
    // Reservations past their expiry count as spent even before a reserve books them.
    read: `
      SELECT account.spent_micros + coalesce(lapsed.micros, 0) AS spent_micros, account.spent_tokens + coalesce(lapsed.tokens, 0) AS spent_tokens,
        account.reserved_micros - coalesce(lapsed.micros, 0) AS reserved_micros, account.reserved_tokens - coalesce(lapsed.tokens, 0) AS reserved_tokens
      FROM ${accounts} AS account
      LEFT JOIN (SELECT sum(micros) AS micros, sum(tokens) AS tokens FROM ${holds}
        WHERE scope_key = $1 AND NOT expired AND expires_ms < ${nowMs('$2')}) AS lapsed ON true
      WHERE account.scope_key = $1`,
  };
}
