import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBudgetConformance } from '../store/testing/index.ts';
import { MemoryBudgetBook } from './memory-budget-book.ts';

// One process, one book: both handles are the same object.
runBudgetConformance('memory', () => {
  const book = new MemoryBudgetBook();
  return Promise.resolve({ first: book, second: book, dispose: () => Promise.resolve() });
});

test('the memory book remembers its latest settlements, at least the latest 4,096, and forgets older ones past 8,192', async () => {
  const book = new MemoryBudgetBook();
  const limits = [{ key: 'tenant:acme', micros: null, tokens: null }];
  const total = 10_000;
  for (let index = 0; index < total; index += 1) {
    const reservationId = `reservation-${index}`;
    await book.reserveBudget({ reservationId, limits, amount: { micros: 10, tokens: 1 }, expiresInMs: 60_000 });
    await book.settleBudget({ reservationId, actual: { micros: index, tokens: 1 } });
  }
  assert.deepEqual(await book.readReservation('reservation-0'), undefined);
  assert.deepEqual(await book.readReservation(`reservation-${total - 8_193}`), undefined);
  for (const index of [total - 4_096, total - 1_000, total - 1]) {
    assert.deepEqual(await book.readReservation(`reservation-${index}`), { state: 'settled', actual: { micros: index, tokens: 1 } });
  }
  assert.deepEqual(await book.readBudget('tenant:acme'), { spent: { micros: (total * (total - 1)) / 2, tokens: total }, reserved: { micros: 0, tokens: 0 } });
});
