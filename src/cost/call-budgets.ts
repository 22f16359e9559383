import { AsyncLocalStorage } from 'node:async_hooks';
import type { BudgetRule } from './budget-ledger.ts';

/**
 * Budgets a call brings with it rather than the deployment's config: a gateway key's own budget
 * and tokens per minute. They are reserved with the ledger's rules, in the same transaction.
 */
export interface CallBudgets {
  /** The key the `key` rules are scoped by, e.g. `key_3fa9c1d2e4b5`. */
  key: string;
  rules: BudgetRule[];
}

const storage = new AsyncLocalStorage<CallBudgets>();

/**
 * Runs `work` with these budgets in force for every reservation made inside it. Ambient, like the
 * journal's step scope, because the reservation is made deep in the governed model, which the
 * caller reaches only through the engine's `context.model(...)`.
 */
export function withCallBudgets<Result>(budgets: CallBudgets, work: () => Result): Result {
  return storage.run(budgets, work);
}

export function currentCallBudgets(): CallBudgets | undefined {
  return storage.getStore();
}
