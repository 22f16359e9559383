/**
 * Circuit-breaker state in PostgreSQL (src/spec/breaker-store-v1.ts), shared by every process on
 * the schema. Each change is one statement on the breaker's row (an upsert or an update, which
 * lock it), so two processes cannot both take the half-open probe. Times are the database's clock;
 * callers see durations only. `opened_until_ms` is when an open breaker may be probed, or when a
 * half-open one's probe lease lapses.
 */
import type { PoolClient } from 'pg';
import type { BreakerFailureV1, BreakerProbeV1, BreakerStateNameV1, BreakerStateV1, BreakerStoreV1 } from '../../spec/index.ts';
import { toStoreError } from './postgres-errors.ts';

const clock = `(SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now)`;

interface BreakerRow {
  state: BreakerStateNameV1;
  consecutive_failures: number;
  opened_until_ms: string;
  now: string;
}

export class PostgresBreakerStates implements BreakerStoreV1 {
  readonly breakerSpecificationVersion = 'v1';
  readonly #sql: ReturnType<typeof breakerStatements>;
  readonly #connect: () => Promise<PoolClient>;
  readonly #location: string;

  /** `connect` checks out a connection (and refuses once the store is closing). */
  constructor(schema: string, location: string, connect: () => Promise<PoolClient>) {
    this.#sql = breakerStatements(schema);
    this.#location = location;
    this.#connect = connect;
  }

  async recordFailure(failure: BreakerFailureV1): Promise<BreakerStateV1> {
    return view(await this.#one('record a breaker failure', this.#sql.failure, [failure.key, failure.threshold, failure.openForMs]));
  }

  async recordSuccess(key: string): Promise<BreakerStateV1> {
    return view(await this.#one('record a breaker success', this.#sql.success, [key]));
  }

  async readBreaker(key: string): Promise<BreakerStateV1> {
    return view(await this.#one('read a breaker', this.#sql.read, [key]));
  }

  async tryProbe(key: string, leaseMs: number): Promise<BreakerProbeV1> {
    const row = await this.#one('probe a breaker', this.#sql.probe, [key, leaseMs]);
    return { granted: row?.granted === true, state: view(row) };
  }

  async #one(what: string, sql: string, values: unknown[]): Promise<(BreakerRow & { granted?: boolean }) | undefined> {
    let client: PoolClient | undefined;
    try {
      client = await this.#connect();
      return (await client.query<BreakerRow & { granted?: boolean }>(sql, values)).rows[0];
    } catch (error) {
      throw toStoreError(error, `cannot ${what} in ${this.#location}`);
    } finally {
      client?.release();
    }
  }
}

function view(row: BreakerRow | undefined): BreakerStateV1 {
  if (row === undefined || row.state === 'closed') return { state: 'closed', consecutiveFailures: row?.consecutive_failures ?? 0, remainingMs: 0 };
  return { state: row.state, consecutiveFailures: row.consecutive_failures, remainingMs: Math.max(0, Number(row.opened_until_ms) - Number(row.now)) };
}

function breakerStatements(schema: string) {
  const breakers = `${schema}.breaker_states`;
  const columns = `breaker.state, breaker.consecutive_failures, breaker.opened_until_ms`;
  // A half-open breaker reopens on any failure; a closed one opens when the count reaches the threshold.
  const opens = `(breaker.state = 'half-open' OR (breaker.state = 'closed' AND breaker.consecutive_failures + 1 >= $2))`;
  // A success leaves an open breaker open: the call was let through before its process knew.
  const open = `breaker.state = 'open'`;
  return {
    failure: `
      INSERT INTO ${breakers} AS breaker (breaker_key, state, consecutive_failures, opened_until_ms, updated_ms)
      SELECT $1, CASE WHEN $2 <= 1 THEN 'open' ELSE 'closed' END, 1, CASE WHEN $2 <= 1 THEN now + $3 ELSE 0 END, now FROM ${clock} AS clock
      ON CONFLICT (breaker_key) DO UPDATE SET
        state = CASE WHEN ${opens} THEN 'open' ELSE breaker.state END,
        opened_until_ms = CASE WHEN ${opens} THEN excluded.updated_ms + $3 ELSE breaker.opened_until_ms END,
        consecutive_failures = breaker.consecutive_failures + 1,
        updated_ms = excluded.updated_ms
      RETURNING ${columns}, breaker.updated_ms AS now`,
    success: `
      INSERT INTO ${breakers} AS breaker (breaker_key, state, consecutive_failures, opened_until_ms, updated_ms)
      SELECT $1, 'closed', 0, 0, now FROM ${clock} AS clock
      ON CONFLICT (breaker_key) DO UPDATE SET
        state = CASE WHEN ${open} THEN breaker.state ELSE 'closed' END,
        consecutive_failures = CASE WHEN ${open} THEN breaker.consecutive_failures ELSE 0 END,
        opened_until_ms = CASE WHEN ${open} THEN breaker.opened_until_ms ELSE 0 END,
        updated_ms = excluded.updated_ms
      RETURNING ${columns}, breaker.updated_ms AS now`,
    read: `SELECT ${columns}, clock.now FROM ${breakers} AS breaker, ${clock} AS clock WHERE breaker.breaker_key = $1`,
    // The update locks the row; a concurrent prober re-checks the condition on the row the first
    // one wrote, finds a live lease, and is not granted.
    probe: `
      WITH clock AS ${clock},
      taken AS (
        UPDATE ${breakers} AS breaker SET state = 'half-open', opened_until_ms = clock.now + $2, updated_ms = clock.now FROM clock
        WHERE breaker.breaker_key = $1 AND breaker.state <> 'closed' AND breaker.opened_until_ms <= clock.now
        RETURNING ${columns}, clock.now)
      SELECT true AS granted, * FROM taken
      UNION ALL
      SELECT false AS granted, ${columns}, clock.now FROM ${breakers} AS breaker, clock
      WHERE breaker.breaker_key = $1 AND NOT EXISTS (SELECT 1 FROM taken)`,
  };
}
