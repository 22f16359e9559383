import { KeelError } from '../errors/index.ts';

export type BudgetScopeKind = 'run' | 'task' | 'tenant' | 'tenant-day';

export interface BudgetRule {
  scope: BudgetScopeKind;
  /** The task (run and task scopes) or tenant the rule applies to; omitted: every one (each with its own budget). */
  match?: string;
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
  /** Defaults to now; the UTC date keys daily budgets. */
  at?: Date;
}

export interface Amount {
  micros: number;
  tokens: number;
}

export interface Reservation {
  readonly keys: readonly string[];
  readonly amount: Amount;
  settled: boolean;
}

export type ReserveOutcome = { ok: true; reservation: Reservation } | { ok: false; scope: string; reason: string };

export interface BudgetAlert {
  scope: string;
  threshold: number;
  /** Fraction of the limit spent, e.g. 0.83. */
  value: number;
  message: string;
}

interface ScopeAccount {
  limit: BudgetRule;
  spent: Amount;
  reserved: Amount;
  alerted: Set<number>;
}

function scopeKey(rule: BudgetRule, context: SpendContext): string | undefined {
  const day = (context.at ?? new Date()).toISOString().slice(0, 10);
  switch (rule.scope) {
    case 'run':
      // `match` names a task: an agent's own per-run budget applies to its runs only.
      return rule.match === undefined || rule.match === context.task ? `run:${context.runId}` : undefined;
    case 'task':
      return rule.match === undefined || rule.match === context.task ? `task:${context.task}` : undefined;
    case 'tenant':
      return rule.match === undefined || rule.match === context.tenant ? `tenant:${context.tenant}` : undefined;
    case 'tenant-day':
      return rule.match === undefined || rule.match === context.tenant ? `tenant:${context.tenant}:day:${day}` : undefined;
  }
}

/**
 * Budgets with reservations: a call reserves its worst case in every scope it falls under before
 * it is sent, and settles its actual spend after. Checking and reserving happen in one synchronous
 * step, so concurrent calls in this process cannot together overshoot a limit.
 */
export class BudgetLedger {
  readonly #rules: BudgetRule[];
  readonly #accounts = new Map<string, ScopeAccount>();

  constructor(rules: BudgetRule[]) {
    for (const rule of rules) {
      for (const field of ['micros', 'tokens'] as const) {
        const value = rule[field];
        if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
          throw new KeelError('config-invalid', `budget for ${rule.scope}${rule.match === undefined ? '' : ` ${rule.match}`}: ${field} must be a non-negative integer, got ${value}`);
        }
      }
      if (rule.micros === undefined && rule.tokens === undefined) throw new KeelError('config-invalid', `budget for ${rule.scope} sets neither micros nor tokens`);
    }
    this.#rules = rules;
  }

  reserve(context: SpendContext, amount: Amount): ReserveOutcome {
    const accounts: [string, ScopeAccount][] = [];
    for (const rule of this.#rules) {
      const key = scopeKey(rule, context);
      if (key === undefined) continue;
      const account = this.#account(key, rule);
      for (const field of ['micros', 'tokens'] as const) {
        const limit = rule[field];
        if (limit === undefined) continue;
        const committed = account.spent[field] + account.reserved[field];
        if (committed + amount[field] > limit) {
          return { ok: false, scope: key, reason: `${key} has ${Math.max(0, limit - committed)} of ${limit} ${field === 'micros' ? 'micro-USD' : 'tokens'} left; this call may need ${amount[field]}` };
        }
      }
      accounts.push([key, account]);
    }
    for (const [, account] of accounts) {
      account.reserved.micros += amount.micros;
      account.reserved.tokens += amount.tokens;
    }
    return { ok: true, reservation: { keys: accounts.map(([key]) => key), amount, settled: false } };
  }

  /** Releases the reservation and books what was actually spent; returns thresholds crossed. */
  settle(reservation: Reservation, actual: Amount): BudgetAlert[] {
    if (reservation.settled) return [];
    reservation.settled = true;
    const alerts: BudgetAlert[] = [];
    for (const key of reservation.keys) {
      const account = this.#accounts.get(key);
      if (account === undefined) continue;
      account.reserved.micros -= reservation.amount.micros;
      account.reserved.tokens -= reservation.amount.tokens;
      account.spent.micros += actual.micros;
      account.spent.tokens += actual.tokens;
      alerts.push(...this.#crossed(key, account));
    }
    return alerts;
  }

  spent(key: string): Amount {
    return { ...(this.#accounts.get(key)?.spent ?? { micros: 0, tokens: 0 }) };
  }

  #account(key: string, rule: BudgetRule): ScopeAccount {
    let account = this.#accounts.get(key);
    if (account === undefined) {
      account = { limit: rule, spent: { micros: 0, tokens: 0 }, reserved: { micros: 0, tokens: 0 }, alerted: new Set() };
      this.#accounts.set(key, account);
    }
    return account;
  }

  #crossed(key: string, account: ScopeAccount): BudgetAlert[] {
    const alerts: BudgetAlert[] = [];
    for (const threshold of account.limit.alertAt ?? []) {
      if (account.alerted.has(threshold)) continue;
      const fractions = (['micros', 'tokens'] as const).flatMap((field) => {
        const limit = account.limit[field];
        return limit === undefined || limit === 0 ? [] : [account.spent[field] / limit];
      });
      const value = Math.max(0, ...fractions);
      if (value >= threshold) {
        account.alerted.add(threshold);
        alerts.push({ scope: key, threshold, value, message: `${key} has spent ${Math.round(value * 100)}% of its budget (threshold ${Math.round(threshold * 100)}%)` });
      }
    }
    return alerts;
  }
}
