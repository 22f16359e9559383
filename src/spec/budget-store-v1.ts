/**
 * Budget store specification, version 1: where budget reservations and spend live when several
 * processes share one budget. Types only. A store that offers it (StoreV1.budgets) keeps every
 * account and reservation in its database and makes each reserve and settle one transaction, so
 * processes on one store cannot together overshoot a limit. The ledger (src/cost) turns budget
 * rules into scope keys and limits; a store never interprets keys.
 *
 * Amounts are integers: micro-USD and tokens. Times are milliseconds since the epoch.
 */

export interface BudgetAmountV1 {
  micros: number;
  tokens: number;
}

/** One scope a reservation falls under, with its limits (null: that field is not limited). */
export interface BudgetLimitV1 {
  key: string;
  micros: number | null;
  tokens: number | null;
}

export interface BudgetReserveRequestV1 {
  /** Unique per reservation; settling names it. */
  reservationId: string;
  limits: BudgetLimitV1[];
  amount: BudgetAmountV1;
  /**
   * A reservation still unsettled this long after it was made is presumed abandoned (its process
   * died between reserving and settling): it is booked as spent at its full amount and stops
   * counting as reserved. A later settle still corrects it to the actual amount.
   */
  expiresInMs: number;
  /** The clock for expiry; default the store's (the database's, for a shared server). */
  nowMs?: number;
  /**
   * The run the reservation is for, kept with it (and with its settlement) so that whoever takes a
   * run over after its process died can find every reservation of the run, even one whose budget
   * decision never reached the journal (`readRunReservations`). Absent: the reservation belongs to
   * no run (and to no run's listing). Added in this version; a book that ignores it lists nothing.
   */
  runId?: string;
}

export type BudgetReserveOutcomeV1 =
  | { ok: true }
  /** `committed`: spent plus reserved in that scope when the request was refused. */
  | { ok: false; key: string; field: 'micros' | 'tokens'; committed: number; limit: number };

export interface BudgetSettleRequestV1 {
  reservationId: string;
  actual: BudgetAmountV1;
}

/** A scope's spend just before and just after a settlement (for threshold alerts). */
export interface BudgetSettledScopeV1 {
  key: string;
  before: BudgetAmountV1;
  after: BudgetAmountV1;
}

/**
 * What a book holds for one reservation: still `held` (its full amount reserved, or booked as spent
 * once it expired), or `settled` at `actual`, the amount every scope it was in booked for it.
 */
export type BudgetReservationV1 = { state: 'held'; amount: BudgetAmountV1 } | { state: 'settled'; actual: BudgetAmountV1 };

/** One reservation of a run (`readRunReservations`): its id and what the book holds for it. */
export type BudgetRunReservationV1 = BudgetReservationV1 & { reservationId: string };

export interface BudgetAccountV1 {
  spent: BudgetAmountV1;
  reserved: BudgetAmountV1;
}

export interface BudgetStoreV1 {
  readonly budgetSpecificationVersion: 'v1';
  /**
   * In one transaction: books expired reservations of these scopes as spent, checks every
   * limit against spent + reserved + amount, and on success records the reservation in every
   * scope. Refused: nothing is written.
   */
  reserveBudget(request: BudgetReserveRequestV1): Promise<BudgetReserveOutcomeV1>;
  /**
   * In one transaction: replaces the reservation by `actual` in every scope it holds. Settling an
   * unknown or already settled reservation changes nothing and returns [].
   */
  settleBudget(request: BudgetSettleRequestV1): Promise<BudgetSettledScopeV1[]>;
  /** A scope's account, expired reservations counted as spent; zero for a scope never used. */
  readBudget(key: string, nowMs?: number): Promise<BudgetAccountV1>;
  /**
   * One reservation as the book holds it, so that whoever ends a call its process could not end (a
   * dead process, a stopped run) journals what the book booked for it. Undefined: unknown to this
   * book (never reserved here), or settled or expired longer ago than the book remembers (a store's
   * book: a day). Optional: a book without it is treated as knowing nothing.
   */
  readReservation?(reservationId: string): Promise<BudgetReservationV1 | undefined>;
  /**
   * Every reservation made for this run (`BudgetReserveRequestV1.runId`) that the book still
   * remembers, each as `readReservation` would give it, in no particular order: whoever takes over
   * a run whose process died bills those its journal does not, including holds whose budget
   * decision the process never journaled. Remembered as long as `readReservation` remembers them.
   * Optional, like `readReservation`: a book without it is treated as knowing of none.
   */
  readRunReservations?(runId: string): Promise<BudgetRunReservationV1[]>;
}
