import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { KeelError, resolveDatabase } from 'keel';

export interface Refund {
  refundId: string;
  orderId: string;
  amountCents: number;
}

/** The payment processor behind this order is down: its refund fails, which shows a run ending `failed`. */
export const processorOutage: ReadonlySet<string> = new Set(['A-1005']);

/** What the support agent's refund tool needs of a payments system. */
export interface Payments {
  /** Where the refunds are kept, safe to print. */
  readonly location: string;
  /** Pays once per idempotency key: a repeated key returns the first refund. */
  refund(orderId: string, amountCents: number, idempotencyKey: string): Refund | Promise<Refund>;
  close(): void;
}

/**
 * The payments system beside the run store that `database` names (a file path or a postgres://
 * URL, read as `--db` is: KEEL_DB, then `.keel/keel.db`): a SQLite file in the store's folder, or
 * a schema of the store's PostgreSQL database. A run resumed from another folder or machine on the
 * same store then reaches the same payments system, so its idempotency key pays once.
 */
export function openPayments(database?: string, environment: NodeJS.ProcessEnv = process.env): Payments {
  const target = resolveDatabase(database, environment);
  if (target.dialect === 'sqlite') return new PaymentsLedger(join(dirname(target.path), 'demo-payments.db'));
  return new PostgresPayments(target.url, `${target.schema ?? 'keel'}_demo_payments`);
}

/**
 * The shop's payments system, in its own SQLite file, deduplicating on the idempotency key the way
 * real payment APIs do: a refund retried after a crash returns the first one instead of paying
 * twice. Opened on first use, so importing the example touches no file.
 */
export class PaymentsLedger implements Payments {
  readonly path: string;
  #database: DatabaseSync | undefined;

  /** `path` is a file, or `:memory:`. */
  constructor(path: string) {
    this.path = path;
  }

  get location(): string {
    return this.path;
  }

  refund(orderId: string, amountCents: number, idempotencyKey: string): Refund {
    if (processorOutage.has(orderId)) throw outage(orderId);
    const database = this.#open();
    database.exec('BEGIN IMMEDIATE');
    try {
      const existing = database.prepare('SELECT refund_id, order_id, amount_cents FROM refunds WHERE idempotency_key = ?').get(idempotencyKey);
      if (existing !== undefined) {
        database.exec('COMMIT');
        return { refundId: String(existing.refund_id), orderId: String(existing.order_id), amountCents: Number(existing.amount_cents) };
      }
      const count = Number(database.prepare('SELECT count(*) AS n FROM refunds').get()?.n ?? 0);
      const refund = { refundId: `re_${String(count + 1).padStart(5, '0')}`, orderId, amountCents };
      database
        .prepare('INSERT INTO refunds (refund_id, order_id, amount_cents, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(refund.refundId, orderId, amountCents, idempotencyKey, new Date().toISOString());
      database.exec('COMMIT');
      return refund;
    } catch (error) {
      database.exec('ROLLBACK');
      throw error;
    }
  }

  /** Every refund paid, oldest first. */
  refunds(): Refund[] {
    return this.#open()
      .prepare('SELECT refund_id, order_id, amount_cents FROM refunds ORDER BY refund_id')
      .all()
      .map((row) => ({ refundId: String(row.refund_id), orderId: String(row.order_id), amountCents: Number(row.amount_cents) }));
  }

  close(): void {
    this.#database?.close();
    this.#database = undefined;
  }

  #open(): DatabaseSync {
    if (this.#database !== undefined) return this.#database;
    if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true });
    const database = new DatabaseSync(this.path);
    database.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000;
      CREATE TABLE IF NOT EXISTS refunds (refund_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, amount_cents INTEGER NOT NULL, idempotency_key TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL)`);
    this.#database = database;
    return database;
  }
}

/**
 * The same payments system in a schema of its own in a PostgreSQL database (the run store's), for
 * workers on several machines. Each refund takes a connection of its own and gives it back, so an
 * idle process holds none and there is nothing to close.
 */
export class PostgresPayments implements Payments {
  readonly schema: string;
  readonly #url: string;
  #prepared = false;

  constructor(url: string, schema: string) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new KeelError('config-invalid', `payments schema name '${schema}' is not a plain PostgreSQL name of at most 63 characters`);
    this.#url = url;
    this.schema = schema;
  }

  get location(): string {
    const url = new URL(this.#url);
    url.password = '';
    return `${url.href}#${this.schema}`;
  }

  async refund(orderId: string, amountCents: number, idempotencyKey: string): Promise<Refund> {
    if (processorOutage.has(orderId)) throw outage(orderId);
    return this.#withClient(async (client) => {
      // The key is unique: of two processes paying the same key, one inserts and both read its row.
      await client.query(
        `INSERT INTO ${this.schema}.refunds (order_id, amount_cents, idempotency_key) VALUES ($1, $2, $3) ON CONFLICT (idempotency_key) DO NOTHING`,
        [orderId, amountCents, idempotencyKey],
      );
      const { rows } = await client.query<RefundRow>(`SELECT number, order_id, amount_cents FROM ${this.schema}.refunds WHERE idempotency_key = $1`, [idempotencyKey]);
      const row = rows[0];
      if (row === undefined) throw new KeelError('tool-error', `refund for key ${idempotencyKey} was not recorded`);
      return toRefund(row);
    });
  }

  /** Every refund paid, oldest first. */
  refunds(): Promise<Refund[]> {
    return this.#withClient(async (client) => {
      const { rows } = await client.query<RefundRow>(`SELECT number, order_id, amount_cents FROM ${this.schema}.refunds ORDER BY number`);
      return rows.map(toRefund);
    });
  }

  close(): void {
    // Every refund closes its own connection.
  }

  async #withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: this.#url, connectionTimeoutMillis: 10_000 });
    try {
      await client.connect();
    } catch (error) {
      throw new KeelError('tool-error', `payments database unreachable: ${error instanceof Error ? error.message : String(error)}`, { retryable: true, cause: error });
    }
    try {
      if (!this.#prepared) {
        // A lock, because CREATE ... IF NOT EXISTS still races when two processes start together.
        await client.query('BEGIN');
        await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [this.schema]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.refunds (number bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          order_id text NOT NULL, amount_cents integer NOT NULL, idempotency_key text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now())`);
        await client.query('COMMIT');
        this.#prepared = true;
      }
      return await work(client);
    } finally {
      await client.end();
    }
  }
}

interface RefundRow {
  number: string;
  order_id: string;
  amount_cents: number;
}

function toRefund(row: RefundRow): Refund {
  return { refundId: `re_${row.number.padStart(5, '0')}`, orderId: row.order_id, amountCents: row.amount_cents };
}

function outage(orderId: string): KeelError {
  return new KeelError('tool-error', `payments API unavailable for order ${orderId} (HTTP 503)`, { retryable: true });
}
