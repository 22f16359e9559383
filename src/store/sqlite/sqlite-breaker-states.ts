/**
 * Circuit-breaker state in the SQLite file (src/spec/breaker-store-v1.ts), shared by every process
 * on it. Each change is one IMMEDIATE transaction that reads the row and writes the next state, so
 * two processes cannot both take the half-open probe. `opened_until_ms` is when an open breaker may
 * be probed, or when a half-open one's probe lease lapses.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { BreakerFailureV1, BreakerProbeV1, BreakerStateNameV1, BreakerStateV1, BreakerStoreV1 } from '../../spec/index.ts';

export interface SqliteBreakerAccess {
  /** Runs `work` in one write transaction, resolving once it is durable. */
  write: <T>(work: () => T) => Promise<T>;
  /** Runs `work` outside any transaction (reads). */
  read: <T>(work: () => T) => Promise<T>;
}

interface BreakerRow {
  state: BreakerStateNameV1;
  failures: number;
  untilMs: number;
}

const closed: BreakerRow = { state: 'closed', failures: 0, untilMs: 0 };

export class SqliteBreakerStates implements BreakerStoreV1 {
  readonly breakerSpecificationVersion = 'v1';
  readonly #database: DatabaseSync;
  #statements: ReturnType<typeof prepareBreakerStatements> | undefined;
  readonly #access: SqliteBreakerAccess;

  constructor(database: DatabaseSync, access: SqliteBreakerAccess) {
    this.#database = database;
    this.#access = access;
  }

  // Prepared at first use, not with the store: a read command never touches this part.
  get #sql(): ReturnType<typeof prepareBreakerStatements> {
    return (this.#statements ??= prepareBreakerStatements(this.#database));
  }

  recordFailure(failure: BreakerFailureV1): Promise<BreakerStateV1> {
    return this.#access.write(() => {
      const now = Date.now();
      const row = this.#row(failure.key);
      const failures = row.failures + 1;
      let next: BreakerRow;
      if (row.state === 'half-open' || (row.state === 'closed' && failures >= failure.threshold)) next = { state: 'open', failures, untilMs: now + failure.openForMs };
      else next = { ...row, failures };
      this.#save(failure.key, next, now);
      return view(next, now);
    });
  }

  recordSuccess(key: string): Promise<BreakerStateV1> {
    return this.#access.write(() => {
      const now = Date.now();
      const row = this.#row(key);
      // A success leaves an open breaker open: the call was let through before its process knew.
      if (row.state === 'open') return view(row, now);
      this.#save(key, closed, now);
      return view(closed, now);
    });
  }

  readBreaker(key: string): Promise<BreakerStateV1> {
    return this.#access.read(() => view(this.#row(key), Date.now()));
  }

  tryProbe(key: string, leaseMs: number): Promise<BreakerProbeV1> {
    return this.#access.write(() => {
      const now = Date.now();
      const row = this.#row(key);
      if (row.state === 'closed' || row.untilMs > now) return { granted: false, state: view(row, now) };
      const next: BreakerRow = { state: 'half-open', failures: row.failures, untilMs: now + leaseMs };
      this.#save(key, next, now);
      return { granted: true, state: view(next, now) };
    });
  }

  #row(key: string): BreakerRow {
    const row = this.#sql.read.get(key);
    if (row === undefined) return closed;
    return { state: row.state as BreakerStateNameV1, failures: Number(row.consecutive_failures), untilMs: Number(row.opened_until_ms) };
  }

  #save(key: string, row: BreakerRow, now: number): void {
    this.#sql.save.run(key, row.state, row.failures, row.untilMs, now);
  }
}

function view(row: BreakerRow, now: number): BreakerStateV1 {
  return { state: row.state, consecutiveFailures: row.failures, remainingMs: row.state === 'closed' ? 0 : Math.max(0, row.untilMs - now) };
}

function prepareBreakerStatements(database: DatabaseSync) {
  const prepare = (sql: string): StatementSync => database.prepare(sql);
  return {
    read: prepare(`SELECT state, consecutive_failures, opened_until_ms FROM breaker_states WHERE breaker_key = ?`),
    save: prepare(
      `INSERT INTO breaker_states (breaker_key, state, consecutive_failures, opened_until_ms, updated_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (breaker_key) DO UPDATE SET state = excluded.state, consecutive_failures = excluded.consecutive_failures,
         opened_until_ms = excluded.opened_until_ms, updated_ms = excluded.updated_ms`,
    ),
  };
}
