/**
 * A store that tells the metrics what it made durable: each run created, each batch appended (after
 * the store resolved it), and each budget settlement. Everything else goes straight to the store.
 * Metrics hear of an event only once it is in the journal, so they never count what a failed
 * append lost.
 */
import type { BudgetReserveRequestV1, BudgetStoreV1, StoreV1 } from '../spec/index.ts';
import type { KeelMetrics } from './keel-metrics.ts';

// Budget keys that name one run or one minute would make a series each: too many to be useful.
const perCallScope = /^run:|:run:|:minute:/;
const rememberedReservations = 10_000;

export function observeStore(store: StoreV1, metrics: KeelMetrics): StoreV1 {
  const budgets = store.budgets === undefined ? undefined : observeBudgets(store.budgets, metrics);
  return new Proxy(store, {
    get(target, property) {
      if (property === 'append') {
        return async (batch: Parameters<StoreV1['append']>[0]) => {
          await target.append(batch);
          metrics.observeAppend(batch);
        };
      }
      if (property === 'createRun') {
        return async (newRun: Parameters<StoreV1['createRun']>[0]) => {
          await target.createRun(newRun);
          metrics.observeRecord(newRun.first);
        };
      }
      if (property === 'budgets') return budgets;
      const value: unknown = Reflect.get(target, property, target);
      // Stores keep their state in private fields, which only the store itself as `this` can reach.
      return typeof value === 'function' ? (value as (...values: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A budget book whose settlements report what each scope has left under its limit. */
function observeBudgets(book: BudgetStoreV1, metrics: KeelMetrics): BudgetStoreV1 {
  // The limits arrive with the reservation and the spend with its settlement.
  const limits = new Map<string, BudgetReserveRequestV1['limits']>();
  return new Proxy(book, {
    get(target, property) {
      if (property === 'reserveBudget') {
        return async (request: BudgetReserveRequestV1) => {
          const outcome = await target.reserveBudget(request);
          if (outcome.ok) {
            if (limits.size >= rememberedReservations) limits.delete(limits.keys().next().value as string);
            limits.set(request.reservationId, request.limits);
          }
          return outcome;
        };
      }
      if (property === 'settleBudget') {
        return async (request: Parameters<BudgetStoreV1['settleBudget']>[0]) => {
          const scopes = await target.settleBudget(request);
          const reserved = limits.get(request.reservationId);
          limits.delete(request.reservationId);
          for (const scope of scopes) {
            const limit = reserved?.find((entry) => entry.key === scope.key)?.micros;
            if (limit !== undefined && limit !== null && !perCallScope.test(scope.key)) metrics.observeBudget(scope.key, limit - scope.after.micros);
          }
          return scopes;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...values: unknown[]) => unknown).bind(target) : value;
    },
  });
}
