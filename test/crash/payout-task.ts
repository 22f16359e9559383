/**
 * The crash test's workload: a payout with real side effects on a "downstream bank" that lives in
 * its own SQLite file, outside the journal. The bank behaves like a payment API would: `reserve`
 * and `transfer` deduplicate on the idempotency key they are handed, `notify` does not (it just
 * sends another message). The effects table has no unique constraint on purpose: a doubled effect
 * shows up as a second row instead of being hidden by the database.
 */
import { DatabaseSync } from 'node:sqlite';
import { defineTask } from '../../src/engine/index.ts';
import type { RunContext, TaskDefinition } from '../../src/engine/index.ts';

export type EffectKind = 'reserve' | 'transfer' | 'notify';

export interface Effect {
  id: number;
  kind: EffectKind;
  runId: string;
  idempotencyKey: string;
  at: string;
}

// Type aliases, not interfaces: task input and output must be assignable to JsonValue.
export type PayoutInput = {
  invoiceId: string;
  customer: string;
  amountCents: number;
};

export type PayoutSummary = {
  invoiceId: string;
  amountCents: number;
  reservation: number;
  transfer: number;
  notification: number;
};

/** The downstream system. One handle per process; node:sqlite is synchronous, so calls never interleave. */
export class Bank {
  readonly #database: DatabaseSync;

  private constructor(database: DatabaseSync) {
    this.#database = database;
  }

  static open(path: string): Bank {
    const database = new DatabaseSync(path);
    database.exec('PRAGMA busy_timeout = 10000');
    database.exec('PRAGMA journal_mode = WAL');
    database.exec('PRAGMA synchronous = FULL');
    database.exec(
      `CREATE TABLE IF NOT EXISTS effects (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, run_id TEXT NOT NULL, idempotency_key TEXT NOT NULL, at TEXT NOT NULL)`,
    );
    // Every call to an idempotent operation, so the test can see retries the bank deduplicated.
    database.exec(
      `CREATE TABLE IF NOT EXISTS calls (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, idempotency_key TEXT NOT NULL, deduplicated INTEGER NOT NULL, at TEXT NOT NULL)`,
    );
    return new Bank(database);
  }

  /** An idempotent operation: returns the record already made under this key, or makes it. */
  once(kind: 'reserve' | 'transfer', runId: string, idempotencyKey: string): Effect {
    this.#database.exec('BEGIN IMMEDIATE');
    try {
      const existing = this.#database.prepare(`SELECT * FROM effects WHERE kind = ? AND idempotency_key = ? ORDER BY id LIMIT 1`).get(kind, idempotencyKey);
      const effect = existing === undefined ? this.#insert(kind, runId, idempotencyKey) : toEffect(existing);
      this.#database
        .prepare(`INSERT INTO calls (kind, idempotency_key, deduplicated, at) VALUES (?, ?, ?, ?)`)
        .run(kind, idempotencyKey, existing === undefined ? 0 : 1, new Date().toISOString());
      this.#database.exec('COMMIT');
      return effect;
    } catch (error) {
      if (this.#database.isTransaction) this.#database.exec('ROLLBACK');
      throw error;
    }
  }

  /** Not idempotent: every call sends (records) another notification. */
  notify(runId: string, idempotencyKey: string): Effect {
    return this.#insert('notify', runId, idempotencyKey);
  }

  effects(): Effect[] {
    return this.#database.prepare(`SELECT * FROM effects ORDER BY id`).all().map(toEffect);
  }

  /** How many calls to `kind` found the key already done (a retry after a crash). */
  deduplicated(kind: 'reserve' | 'transfer'): number {
    return Number(this.#database.prepare(`SELECT count(*) AS n FROM calls WHERE kind = ? AND deduplicated = 1`).get(kind)?.n ?? 0);
  }

  close(): void {
    this.#database.close();
  }

  #insert(kind: EffectKind, runId: string, idempotencyKey: string): Effect {
    const row = this.#database
      .prepare(`INSERT INTO effects (kind, run_id, idempotency_key, at) VALUES (?, ?, ?, ?) RETURNING *`)
      .get(kind, runId, idempotencyKey, new Date().toISOString());
    if (row === undefined) throw new Error(`bank: insert of ${kind} for ${runId} returned nothing`);
    return toEffect(row);
  }
}

function toEffect(row: Record<string, unknown>): Effect {
  return {
    id: Number(row.id),
    kind: String(row.kind) as EffectKind,
    runId: String(row.run_id),
    idempotencyKey: String(row.idempotency_key),
    at: String(row.at),
  };
}

/** A few random milliseconds, so a kill can land inside a step, between steps and between commits. */
function jitter(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1 + Math.floor(Math.random() * 15)));
}

export const payoutStepNames = { reserve: 'reserve-funds', transfer: 'transfer', notify: 'notify-customer' } as const satisfies Record<EffectKind, string>;

export function payoutTask(bank: Bank): TaskDefinition<PayoutInput, PayoutSummary> {
  return defineTask({
    name: 'payout',
    version: '1',
    run: async (context: RunContext, input: PayoutInput): Promise<PayoutSummary> => {
      const invoice = await context.step(
        'load-invoice',
        async () => {
          await jitter();
          return { invoiceId: input.invoiceId, customer: input.customer, amountCents: input.amountCents, currency: 'EUR' };
        },
        { idempotent: true, input: { invoiceId: input.invoiceId } },
      );
      const reservation = await context.tool(
        payoutStepNames.reserve,
        { invoiceId: invoice.invoiceId, amountCents: invoice.amountCents },
        async (_args, info) => {
          await jitter();
          const effect = bank.once('reserve', context.runId, info.idempotencyKey);
          await jitter();
          return effect.id;
        },
        { idempotent: true },
      );
      await context.checkpoint('funds-reserved', { invoiceId: invoice.invoiceId, reservation });
      const transfer = await context.tool(
        payoutStepNames.transfer,
        { reservation, to: invoice.customer, amountCents: invoice.amountCents },
        async (_args, info) => {
          await jitter();
          const effect = bank.once('transfer', context.runId, info.idempotencyKey);
          await jitter();
          return effect.id;
        },
        { idempotent: true },
      );
      const notification = await context.tool(payoutStepNames.notify, { customer: invoice.customer, transfer }, async (_args, info) => {
        await jitter();
        const effect = bank.notify(context.runId, info.idempotencyKey);
        await jitter();
        return effect.id;
      });
      return { invoiceId: invoice.invoiceId, amountCents: invoice.amountCents, reservation, transfer, notification };
    },
  });
}
