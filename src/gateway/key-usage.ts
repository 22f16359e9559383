// The narrow entry: `keel keys list` reads usage without loading the ledger.
import { keyBudgetScope } from '../cost/key-budget-scope.ts';
import type { ApiKeyRecordV1, BudgetStoreV1, KeyStoreV1 } from '../spec/index.ts';

/** What a key with a daily or monthly budget has spent of it in the current window, in integer micro-USD. */
export interface KeyUsage {
  window: 'day' | 'month';
  /** The window, in UTC: `2026-12-05` for a day, `2026-12` for a month. */
  period: string;
  limitMicros: number;
  /** Settled calls, and reservations past their expiry (booked at their full amount). */
  spentMicros: number;
  /** Calls in flight, at their worst case. */
  reservedMicros: number;
  /** What a new call may still reserve: the limit less spent and reserved, never below 0. */
  remainingMicros: number;
}

/**
 * Reads a key's spend from the budget book every gateway on the store shares, in the window its
 * budget is enforced in now. Undefined for a key without a budget, or with one per run (each run is
 * its own window), and for a store with no budget book: the book keeps no account for them.
 */
export async function readKeyUsage(budgets: BudgetStoreV1 | undefined, key: ApiKeyRecordV1, now: Date = new Date()): Promise<KeyUsage | undefined> {
  const budget = key.settings.budget;
  if (budgets === undefined || budget === undefined || budget.per === 'run') return undefined;
  const time = now.toISOString();
  const account = await budgets.readBudget(keyBudgetScope(key.keyId, budget.per, '', time), now.getTime());
  const spentMicros = account.spent.micros;
  const reservedMicros = account.reserved.micros;
  return {
    window: budget.per,
    period: budget.per === 'day' ? time.slice(0, 10) : time.slice(0, 7),
    limitMicros: budget.micros,
    spentMicros,
    reservedMicros,
    remainingMicros: Math.max(0, budget.micros - spentMicros - reservedMicros),
  };
}

/** Every key, as `listKeys` gives them, each with its usage now (null where the book keeps none): what `keel keys list` and `GET /admin/keys` show. */
export async function listKeysWithUsage(keys: KeyStoreV1, budgets: BudgetStoreV1 | undefined, now: Date = new Date()): Promise<(ApiKeyRecordV1 & { usage: KeyUsage | null })[]> {
  const listed = await keys.listKeys();
  return Promise.all(listed.map(async (key) => ({ ...key, usage: (await readKeyUsage(budgets, key, now)) ?? null })));
}
