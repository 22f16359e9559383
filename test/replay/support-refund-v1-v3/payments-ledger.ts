import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export interface Refund {
  refundId: string;
  orderId: string;
  amountCents: number;
  idempotencyKey: string;
}

/**
 * The demo's downstream payments system, in its own database, deduplicating on the idempotency
 * key the way real payment APIs do: a retried refund returns the first one instead of paying twice.
 */
export class PaymentsLedger {
  readonly #database: DatabaseSync;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#database = new DatabaseSync(path);
    this.#database.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000;
      CREATE TABLE IF NOT EXISTS refunds (refund_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, amount_cents INTEGER NOT NULL, idempotency_key TEXT NOT NULL, created_at TEXT NOT NULL)`);
  }

  refund(orderId: string, amountCents: number, idempotencyKey: string): Refund {
    this.#database.exec('BEGIN IMMEDIATE');
    try {
      const existing = this.#database.prepare(`SELECT * FROM refunds WHERE idempotency_key = ?`).get(idempotencyKey);
      if (existing !== undefined) {
        this.#database.exec('COMMIT');
        return { refundId: String(existing.refund_id), orderId: String(existing.order_id), amountCents: Number(existing.amount_cents), idempotencyKey };
      }
      const count = Number(this.#database.prepare(`SELECT count(*) AS n FROM refunds`).get()?.n ?? 0);
      const refund = { refundId: `re_${String(count + 1).padStart(5, '0')}`, orderId, amountCents, idempotencyKey };
      this.#database
        .prepare(`INSERT INTO refunds (refund_id, order_id, amount_cents, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?)`)
        .run(refund.refundId, orderId, amountCents, idempotencyKey, new Date().toISOString());
      this.#database.exec('COMMIT');
      return refund;
    } catch (error) {
      this.#database.exec('ROLLBACK');
      throw error;
    }
  }

  count(): number {
    return Number(this.#database.prepare(`SELECT count(*) AS n FROM refunds`).get()?.n ?? 0);
  }

  close(): void {
    this.#database.close();
  }
}
