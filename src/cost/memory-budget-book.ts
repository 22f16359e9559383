/**
 * Budget accounts in this process's memory: the book of a ledger with no store to share (a test,
 * a one-off script). It follows the same specification as the stores' shared book
 * (src/spec/budget-store-v1.ts); each operation runs in one synchronous step, so concurrent calls
 * in this process cannot together overshoot a limit. Other processes do not see it.
 */
import type {
  BudgetAccountV1,
  BudgetAmountV1,
  BudgetLimitV1,
  BudgetReservationV1,
  BudgetReserveOutcomeV1,
  BudgetReserveRequestV1,
  BudgetRunReservationV1,
  BudgetSettledScopeV1,
  BudgetSettleRequestV1,
  BudgetStoreV1,
} from '../spec/index.ts';

interface Hold {
  keys: string[];
  amount: BudgetAmountV1;
  expiresAtMs: number;
  /** Booked as spent at its full amount because it outlived its expiry unsettled. */
  expired: boolean;
  runId: string | undefined;
}

interface Settlement {
  actual: BudgetAmountV1;
  runId: string | undefined;
}

// An expired reservation is kept this long for a late settle to correct, then forgotten.
const expiredRetentionMs = 24 * 60 * 60 * 1000;
// Settlements are remembered for readReservation, which only this process can ask (its book dies
// with it): the latest few thousand, for a stop of a call in flight (settled moments before), bounded
// so a busy process does not grow: 65,536 of them held ~6-8 MB of heap after 100,000 governed calls.
// Kept in two generations of half this: the older is dropped whole when the newer fills, so the
// latest 4,096 to 8,192 are remembered. (Dropping a Map's oldest entry one at a time costs a
// scan past every entry deleted before it, ~20 µs a settlement once full.)
const rememberedSettlements = 8_192;

export class MemoryBudgetBook implements BudgetStoreV1 {
  readonly budgetSpecificationVersion = 'v1';
  readonly #accounts = new Map<string, BudgetAccountV1>();
  readonly #holds = new Map<string, Hold>();
  /** What the latest reservations settled at: the newer generation, and the one before it. */
  #settled = new Map<string, Settlement>();
  #settledBefore = new Map<string, Settlement>();

  reserveBudget(request: BudgetReserveRequestV1): Promise<BudgetReserveOutcomeV1> {
    const now = request.nowMs ?? Date.now();
    this.#expire(now);
    const keys: string[] = [];
    for (const limit of request.limits) {
      const account = this.#account(limit.key);
      const refusal = refusalOf(limit, account, request.amount, 'micros') ?? refusalOf(limit, account, request.amount, 'tokens');
      if (refusal !== undefined) return Promise.resolve(refusal);
      // A reservation has a handful of scopes: a scan is cheaper than a Set.
      if (!keys.includes(limit.key)) keys.push(limit.key);
    }
    for (const key of keys) add(this.#account(key).reserved, request.amount, 1);
    this.#holds.set(request.reservationId, { keys, amount: { ...request.amount }, expiresAtMs: now + request.expiresInMs, expired: false, runId: request.runId });
    return Promise.resolve({ ok: true });
  }

  settleBudget(request: BudgetSettleRequestV1): Promise<BudgetSettledScopeV1[]> {
    const hold = this.#holds.get(request.reservationId);
    if (hold === undefined) return Promise.resolve([]);
    this.#holds.delete(request.reservationId);
    this.#remember(request.reservationId, request.actual, hold.runId);
    return Promise.resolve(
      hold.keys.map((key) => {
        const account = this.#account(key);
        const before = { ...account.spent };
        // An expired reservation was booked at its full amount already: correct it to the actual.
        if (hold.expired) add(account.spent, hold.amount, -1);
        else add(account.reserved, hold.amount, -1);
        add(account.spent, request.actual, 1);
        return { key, before, after: { ...account.spent } };
      }),
    );
  }

  readBudget(key: string, nowMs?: number): Promise<BudgetAccountV1> {
    this.#expire(nowMs ?? Date.now());
    const account = this.#accounts.get(key);
    return Promise.resolve({ spent: { ...(account?.spent ?? zero()) }, reserved: { ...(account?.reserved ?? zero()) } });
  }

  readReservation(reservationId: string): Promise<BudgetReservationV1 | undefined> {
    const hold = this.#holds.get(reservationId);
    if (hold !== undefined) return Promise.resolve({ state: 'held', amount: { ...hold.amount } });
    const settled = this.#settled.get(reservationId) ?? this.#settledBefore.get(reservationId);
    return Promise.resolve(settled === undefined ? undefined : { state: 'settled', actual: { ...settled.actual } });
  }

  // Asked only when a run is taken over after its process died: a scan of what is remembered.
  readRunReservations(runId: string): Promise<BudgetRunReservationV1[]> {
    const found: BudgetRunReservationV1[] = [];
    for (const [reservationId, hold] of this.#holds) if (hold.runId === runId) found.push({ reservationId, state: 'held', amount: { ...hold.amount } });
    for (const generation of [this.#settled, this.#settledBefore]) {
      for (const [reservationId, settled] of generation) {
        // A settlement is remembered once, in one generation; a held id is never settled too.
        if (settled.runId === runId) found.push({ reservationId, state: 'settled', actual: { ...settled.actual } });
      }
    }
    return Promise.resolve(found);
  }

  #remember(reservationId: string, actual: BudgetAmountV1, runId: string | undefined): void {
    if (this.#settled.size >= rememberedSettlements / 2) {
      this.#settledBefore = this.#settled;
      this.#settled = new Map();
    }
    this.#settled.set(reservationId, { actual: { micros: actual.micros, tokens: actual.tokens }, runId });
  }

  #expire(now: number): void {
    for (const [id, hold] of this.#holds) {
      if (!hold.expired && hold.expiresAtMs < now) {
        hold.expired = true;
        for (const key of hold.keys) {
          const account = this.#account(key);
          add(account.reserved, hold.amount, -1);
          add(account.spent, hold.amount, 1);
        }
      } else if (hold.expired && hold.expiresAtMs + expiredRetentionMs < now) {
        this.#holds.delete(id);
      }
    }
  }

  #account(key: string): BudgetAccountV1 {
    let account = this.#accounts.get(key);
    if (account === undefined) {
      account = { spent: zero(), reserved: zero() };
      this.#accounts.set(key, account);
    }
    return account;
  }
}

/** A limit's refusal of the amount on one field, or undefined when the field has room (or no limit). */
function refusalOf(limit: BudgetLimitV1, account: BudgetAccountV1, amount: BudgetAmountV1, field: 'micros' | 'tokens'): BudgetReserveOutcomeV1 | undefined {
  const bound = limit[field];
  if (bound === null) return undefined;
  const committed = account.spent[field] + account.reserved[field];
  return committed + amount[field] > bound ? { ok: false, key: limit.key, field, committed, limit: bound } : undefined;
}

function zero(): BudgetAmountV1 {
  return { micros: 0, tokens: 0 };
}

function add(target: BudgetAmountV1, amount: BudgetAmountV1, sign: 1 | -1): void {
  target.micros += sign * amount.micros;
  target.tokens += sign * amount.tokens;
}
