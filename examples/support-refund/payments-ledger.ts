import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { KeelError } from 'keel';

export interface Refund {
  refundId: string;
  orderId: string;
  amountCents: number;
}

/** The payment processor behind this order is down: its refund fails, which shows a run ending `failed`. */
export const processorOutage: ReadonlySet<string> = new Set(['A-1005']);

/**
 * The shop's payments system, in its own SQLite file, deduplicating on the idempotency key the way
 * real payment APIs do: a refund retried after a crash returns the first one instead of paying
 * twice. Opened on first use, so importing the example touches no file.
 */
export class PaymentsLedger {
  readonly path: string;
  #database: DatabaseSync | undefined;

  /** `path` is a file, or `:memory:`. */
  constructor(path: string) {
    this.path = path;
  }

  refund(orderId: string, amountCents: number, idempotencyKey: string): Refund {
    if (processorOutage.has(orderId)) throw new KeelError('tool-error', `payments API unavailable for order ${orderId} (HTTP 503)`, { retryable: true });
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
