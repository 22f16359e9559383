import type { StoreV1 } from 'keel';
import type { BudgetReserveRequestV1, BudgetReserveOutcomeV1, BudgetStoreV1 } from '../../src/spec/index.ts';
import type { SqliteStore } from '../../src/store/index.ts';

/**
 * The store as given, with its budget book's reservations passed through `reserve` first: a test
 * notes what was asked, or refuses it as a failing database would. Everything else is the store's.
 */
export function withReserveHook(store: SqliteStore, reserve: (request: BudgetReserveRequestV1, next: () => Promise<BudgetReserveOutcomeV1>) => Promise<BudgetReserveOutcomeV1>): StoreV1 {
  const book: BudgetStoreV1 = {
    budgetSpecificationVersion: 'v1',
    reserveBudget: (request) => reserve(request, () => store.budgets.reserveBudget(request)),
    settleBudget: (request) => store.budgets.settleBudget(request),
    readBudget: (key, nowMs) => store.budgets.readBudget(key, nowMs),
    readReservation: (reservationId) => store.budgets.readReservation(reservationId),
    readRunReservations: (runId) => store.budgets.readRunReservations(runId),
  };
  return new Proxy(store, {
    get: (target, property) => {
      if (property === 'budgets') return book;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...values: unknown[]) => unknown).bind(target) : value;
    },
  });
}
