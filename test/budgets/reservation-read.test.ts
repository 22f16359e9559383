/**
 * readReservation, on every budget book (memory, SQLite, PostgreSQL): a reservation is `held` at its
 * amount until it is settled, then `settled` at what it was settled at, seen by another handle on
 * the same book (another process); an unknown id is undefined, and settling twice keeps the first.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MemoryBudgetBook } from '../../src/cost/index.ts';
import type { BudgetStoreV1 } from '../../src/spec/index.ts';
import { PostgresStore, SqliteStore } from '../../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from '../../src/store/testing/index.ts';

interface Books {
  first: BudgetStoreV1;
  second: BudgetStoreV1;
  dispose: () => Promise<void>;
}

const postgres = await openTestPostgres();

const factories: Record<string, (() => Promise<Books>) | { skip: string }> = {
  memory: () => {
    const book = new MemoryBudgetBook();
    return Promise.resolve({ first: book, second: book, dispose: () => Promise.resolve() });
  },
  sqlite: () => {
    const folder = mkdtempSync(join(tmpdir(), 'keel-reservation-read-'));
    const first = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
    const second = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
    return Promise.resolve({
      first: first.budgets,
      second: second.budgets,
      dispose: async () => {
        await Promise.all([first.close(), second.close()]);
        rmSync(folder, { recursive: true, force: true });
      },
    });
  },
  postgres:
    'skipReason' in postgres
      ? { skip: postgres.skipReason }
      : async () => {
          const schema = uniqueSchemaName('keel_reservation_read');
          const first = await PostgresStore.open({ url: postgres.url, schema });
          const second = await PostgresStore.open({ url: postgres.url, schema });
          return {
            first: first.budgets,
            second: second.budgets,
            dispose: async () => {
              await Promise.all([first.close(), second.close()]);
              await dropSchema(postgres.url, schema);
            },
          };
        },
};

for (const [name, factory] of Object.entries(factories)) {
  describe(`readReservation (${name})`, () => {
    test('held at its amount, then settled at the actual amount, seen from another handle; unknown is undefined; a second settle changes nothing', typeof factory === 'function' ? {} : { skip: factory.skip }, async () => {
      if (typeof factory !== 'function') return;
      const { first, second, dispose } = await factory();
      try {
        assert.ok(first.readReservation !== undefined && second.readReservation !== undefined);
        const reservationId = randomUUID();
        const limits = [
          { key: `tenant:${randomUUID()}`, micros: 1_000_000, tokens: null },
          { key: `task:${randomUUID()}`, micros: null, tokens: 1_000_000 },
        ];
        assert.equal(await second.readReservation(reservationId), undefined);
        assert.deepEqual(await first.reserveBudget({ reservationId, limits, amount: { micros: 5_000, tokens: 600 }, expiresInMs: 60_000 }), { ok: true });
        assert.deepEqual(await second.readReservation(reservationId), { state: 'held', amount: { micros: 5_000, tokens: 600 } });
        assert.equal((await first.settleBudget({ reservationId, actual: { micros: 1_234, tokens: 210 } })).length, 2);
        assert.deepEqual(await second.readReservation(reservationId), { state: 'settled', actual: { micros: 1_234, tokens: 210 } });
        assert.deepEqual(await second.settleBudget({ reservationId, actual: { micros: 5_000, tokens: 600 } }), []);
        assert.deepEqual(await first.readReservation(reservationId), { state: 'settled', actual: { micros: 1_234, tokens: 210 } });
        assert.equal(await first.readReservation(randomUUID()), undefined);
      } finally {
        await dispose();
      }
    });
  });
}
