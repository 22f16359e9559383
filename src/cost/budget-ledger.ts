import { randomUUID } from 'node:crypto';
import { KeelError } from '../errors/index.ts';
import type { BudgetLimitV1, BudgetReserveRequestV1, BudgetStoreV1 } from '../spec/index.ts';
import { currentCallBudgets } from './call-budgets.ts';
import type { KeyBudgetWindow } from './key-budget-scope.ts';
import { keyBudgetScope } from './key-budget-scope.ts';
import { MemoryBudgetBook } from './memory-budget-book.ts';

export type BudgetScopeKind = 'run' | 'task' | 'tenant' | 'tenant-day' | 'key';

export type { KeyBudgetWindow } from './key-budget-scope.ts';

export interface BudgetRule {
  scope: BudgetScopeKind;
  /** The task (run and task scopes), tenant or key the rule applies to; omitted: every one (each with its own budget). */
  match?: string;
  /** For `key` scopes: the window the budget is counted over (default `day`). */
  window?: KeyBudgetWindow;
  /** Integer micro-USD. */
  micros?: number;
  tokens?: number;
  /** Fractions of the limit that raise an alert when spending crosses them, e.g. [0.5, 0.8, 1]. */
  alertAt?: number[];
}

export interface SpendContext {
  runId: string;
  task: string;
  tenant: string;
  /** The gateway key that made the call, for `key` scopes. */
  key?: string;
  /** Defaults to now; the UTC date keys daily budgets. */
  at?: Date;
}

export interface Amount {
  micros: number;
  tokens: number;
}

export interface Reservation {
  /** Names the reservation in the book that holds it. */
  readonly id: string;
  readonly keys: readonly string[];
  readonly amount: Amount;
  settled: boolean;
  /** The rules behind each key, for the alert thresholds checked at settlement. */
  readonly rules: ReadonlyMap<string, readonly BudgetRule[]>;
}

export type ReserveOutcome = { ok: true; reservation: Reservation } | { ok: false; scope: string; reason: string };

export interface BudgetAlert {
  scope: string;
  threshold: number;
  /** Fraction of the limit spent, e.g. 0.83. */
  value: number;
  message: string;
}

export interface BudgetLedgerOptions {
  /**
   * Where accounts and reservations live. A store's book (StoreV1.budgets) is shared by every
   * process on that store; default: this process's memory only.
   */
  book?: BudgetStoreV1;
  /** How long an unsettled reservation counts as reserved before it is booked as spent; default 5 minutes. */
  reservationExpiryMs?: number;
  /** The clock that dates spend (the UTC day keys daily budgets) and ages reservations; default the system's. */
  clock?: () => Date;
}

const defaultReservationExpiryMs = 5 * 60 * 1000;
// Spend contexts whose scopes are remembered (see BudgetLedger.#scopesOf); past this they start over.
const rememberedContexts = 1_024;

interface RememberedScopes {
  task: string;
  tenant: string;
  key: string | undefined;
  minute: number;
  scopes: { limits: BudgetLimitV1[]; rules: Map<string, BudgetRule[]> };
}

/** `time`: the spend's ISO time, read once per reservation (its UTC day keys daily budgets). */
function scopeKey(rule: BudgetRule, context: SpendContext, time: string): string | undefined {
  switch (rule.scope) {
    case 'run':
      // `match` names a task: an agent's own per-run budget applies to its runs only.
      return rule.match === undefined || rule.match === context.task ? `run:${context.runId}` : undefined;
    case 'task':
      return rule.match === undefined || rule.match === context.task ? `task:${context.task}` : undefined;
    case 'tenant':
      return rule.match === undefined || rule.match === context.tenant ? `tenant:${context.tenant}` : undefined;
    case 'tenant-day':
      return rule.match === undefined || rule.match === context.tenant ? `tenant:${context.tenant}:day:${time.slice(0, 10)}` : undefined;
    case 'key':
      if (context.key === undefined || (rule.match !== undefined && rule.match !== context.key)) return undefined;
      return keyBudgetScope(context.key, rule.window ?? 'day', context.runId, time);
  }
}

/**
 * Budgets with reservations: a call reserves its worst case in every scope it falls under before
 * it is sent, and settles its actual spend after. The book checks and reserves in one step (one
 * transaction for a store's book), so concurrent calls, in this process or in others sharing the
 * book, cannot together overshoot a limit. A reservation whose process died before settling is
 * booked at its full amount once it expires, so a crash can neither overspend nor hold budget forever.
 */
export class BudgetLedger {
  readonly #rules: BudgetRule[];
  readonly #book: BudgetStoreV1;
  readonly #expiryMs: number;
  readonly #clock: (() => Date) | undefined;
  /** The scopes of recent spend contexts under the ledger's own rules, by run: its context and minute. */
  readonly #scopes = new Map<string, RememberedScopes>();

  constructor(rules: BudgetRule[], options: BudgetLedgerOptions = {}) {
    for (const rule of rules) checkRule(rule);
    const expiryMs = options.reservationExpiryMs ?? defaultReservationExpiryMs;
    if (!Number.isSafeInteger(expiryMs) || expiryMs <= 0) throw new KeelError('config-invalid', `budget reservation expiry must be a positive integer of milliseconds, got ${expiryMs}`);
    this.#rules = rules;
    this.#book = options.book ?? new MemoryBudgetBook();
    this.#expiryMs = expiryMs;
    this.#clock = options.clock;
  }

  /** True when the book is shared through a store rather than kept in this process. */
  get shared(): boolean {
    return !(this.#book instanceof MemoryBudgetBook);
  }

  /** Reserves under the ledger's rules and the call's own (call-budgets.ts), when it brings any. */
  async reserve(context: SpendContext, amount: Amount): Promise<ReserveOutcome> {
    const brought = currentCallBudgets();
    if (brought !== undefined) for (const rule of brought.rules) checkRule(rule);
    const { limits, rules } =
      brought === undefined ? this.#scopesOf(context) : this.#limits(context.key !== undefined ? context : { ...context, key: brought.key }, [...this.#rules, ...brought.rules]);
    const id = randomUUID();
    if (limits.length === 0) return { ok: true, reservation: { id, keys: [], amount, settled: false, rules } };
    // The run goes with the hold, so whoever takes the run over after its process died finds it.
    const request: BudgetReserveRequestV1 = { reservationId: id, limits, amount: { micros: amount.micros, tokens: amount.tokens }, expiresInMs: this.#expiryMs, runId: context.runId };
    const now = this.#nowMs();
    if (now !== undefined) request.nowMs = now;
    const outcome = await this.#book.reserveBudget(request);
    if (!outcome.ok) {
      const unit = outcome.field === 'micros' ? 'micro-USD' : 'tokens';
      return {
        ok: false,
        scope: outcome.key,
        reason: `${outcome.key} has ${Math.max(0, outcome.limit - outcome.committed)} of ${outcome.limit} ${unit} left; this call may need ${amount[outcome.field]}`,
      };
    }
    return { ok: true, reservation: { id, keys: limits.map((limit) => limit.key), amount, settled: false, rules } };
  }

  /** Replaces the reservation by what was actually spent; returns the alert thresholds this crossed. */
  async settle(reservation: Reservation, actual: Amount): Promise<BudgetAlert[]> {
    if (reservation.settled) return [];
    reservation.settled = true;
    if (reservation.keys.length === 0) return [];
    const scopes = await this.#book.settleBudget({ reservationId: reservation.id, actual: { micros: actual.micros, tokens: actual.tokens } });
    return scopes.flatMap((scope) => crossed(reservation.rules.get(scope.key) ?? [], scope.key, scope.before, scope.after));
  }

  /** What a scope has spent, reservations past their expiry included. */
  async spent(key: string): Promise<Amount> {
    return (await this.#book.readBudget(key, this.#nowMs())).spent;
  }

  #nowMs(): number | undefined {
    return this.#clock?.().getTime();
  }

  /**
   * `#limits` under the ledger's own rules, remembered: a run's calls fall under the same scopes
   * until the minute turns (the finest window a key is dated by), so each call after its run's
   * first in a minute costs a lookup by run id and a few comparisons (no date formatting: the
   * minute is counted from the epoch, as UTC's are). The limits and rules are only read, by the
   * book and at settlement.
   */
  #scopesOf(context: SpendContext): { limits: BudgetLimitV1[]; rules: Map<string, BudgetRule[]> } {
    const at = context.at ?? this.#clock?.();
    const nowMs = at === undefined ? Date.now() : at.getTime();
    const minute = Math.floor(nowMs / 60_000);
    const remembered = this.#scopes.get(context.runId);
    if (remembered !== undefined && remembered.minute === minute && remembered.task === context.task && remembered.tenant === context.tenant && remembered.key === context.key) {
      return remembered.scopes;
    }
    const scopes = this.#limits(context, this.#rules, (at ?? new Date(nowMs)).toISOString());
    if (this.#scopes.size >= rememberedContexts) this.#scopes.clear();
    this.#scopes.set(context.runId, { task: context.task, tenant: context.tenant, key: context.key, minute, scopes });
    return scopes;
  }

  /** Every scope this spend falls under, with the tightest limit when several rules name one scope. */
  #limits(context: SpendContext, ruleSet: readonly BudgetRule[], at?: string): { limits: BudgetLimitV1[]; rules: Map<string, BudgetRule[]> } {
    const time = at ?? (context.at ?? this.#clock?.() ?? new Date()).toISOString();
    const limits = new Map<string, BudgetLimitV1>();
    const rules = new Map<string, BudgetRule[]>();
    for (const rule of ruleSet) {
      const key = scopeKey(rule, context, time);
      if (key === undefined) continue;
      const named = rules.get(key);
      if (named === undefined) rules.set(key, [rule]);
      else named.push(rule);
      const limit = limits.get(key) ?? { key, micros: null, tokens: null };
      for (const field of ['micros', 'tokens'] as const) {
        const bound = rule[field];
        if (bound !== undefined) limit[field] = limit[field] === null ? bound : Math.min(limit[field], bound);
      }
      limits.set(key, limit);
    }
    return { limits: [...limits.values()], rules };
  }
}

function checkRule(rule: BudgetRule): void {
  for (const field of ['micros', 'tokens'] as const) {
    const value = rule[field];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new KeelError('config-invalid', `budget for ${rule.scope}${rule.match === undefined ? '' : ` ${rule.match}`}: ${field} must be a non-negative integer, got ${value}`);
    }
  }
  if (rule.micros === undefined && rule.tokens === undefined) throw new KeelError('config-invalid', `budget for ${rule.scope} sets neither micros nor tokens`);
}

/** Thresholds passed by one settlement. The book serialises a scope's settlements, so exactly one process sees each crossing. */
function crossed(rules: readonly BudgetRule[], key: string, before: Amount, after: Amount): BudgetAlert[] {
  const alerts: BudgetAlert[] = [];
  for (const rule of rules) {
    if (rule.alertAt === undefined || rule.alertAt.length === 0) continue;
    const previous = fractionSpent(rule, before);
    const value = fractionSpent(rule, after);
    for (const threshold of rule.alertAt) {
      if (previous < threshold && value >= threshold) {
        alerts.push({ scope: key, threshold, value, message: `${key} has spent ${Math.round(value * 100)}% of its budget (threshold ${Math.round(threshold * 100)}%)` });
      }
    }
  }
  return alerts;
}

// Runs at every settlement for every rule of every scope: written without intermediate arrays.
function fractionSpent(rule: BudgetRule, spent: Amount): number {
  let fraction = 0;
  if (rule.micros !== undefined && rule.micros !== 0) fraction = Math.max(fraction, spent.micros / rule.micros);
  if (rule.tokens !== undefined && rule.tokens !== 0) fraction = Math.max(fraction, spent.tokens / rule.tokens);
  return fraction;
}
