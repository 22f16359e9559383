import type { ErrorData } from '../errors/index.ts';
import type { EventData, JournalEvent, JournalWriter, RunState } from '../journal/index.ts';
import type { BudgetStoreV1 } from '../spec/index.ts';
import { billLeftReservations, bookPriceVersion, settleHeld } from './left-reservations.ts';

export interface CallsInFlightOptions {
  state: RunState;
  /** The run's journal as stored (its budget decisions are never sealed). */
  events: readonly JournalEvent[];
  writer: JournalWriter;
  /** The store's budget book, which holds the calls' reservations; absent: the journal's figures alone. */
  budgets: BudgetStoreV1 | undefined;
  /** Labels a cost billed from the reservation; a cost the book settled is labelled `bookPriceVersion`. */
  priceVersion: string;
  /** The failure each ended step records; `billing` says what it was billed and why. */
  failure: (billing: string) => Pick<ErrorData, 'code' | 'message'>;
  /**
   * Set when the run is taken from a process that died (not a live executor's own stop): why, in
   * words. Every other reservation of the run its journal does not bill is billed too, as a
   * `reservation-bill` after the calls' ends (left-reservations.ts): one whose budget decision never
   * reached the journal, or one of an execution before the last that nobody billed.
   */
  takenOver?: string;
}

export interface CallBilling {
  step: number;
  from: 'settlement' | 'reservation' | 'unreserved';
  /** Absent when `unreserved`. */
  micros?: number;
}

/** A call's billing in words: `billed its reservation, 5000 micro-USD`. */
export function describeBilling(billing: CallBilling): string {
  if (billing.from === 'unreserved') return 'no budget was reserved for it';
  return `${billing.from === 'settlement' ? 'billed what the budget book settled it at' : 'billed its reservation'}, ${billing.micros} micro-USD`;
}

/** The ending of a run's model calls that started and never ended, for its end to follow. */
export interface CallsInFlight {
  /** A failed step-end per model call in flight, built on the writer, to append before the run's end. */
  events: JournalEvent[];
  /** micro-USD billed to them together. */
  billedMicros: number;
  /** What each was billed, from where: the book's settlement, its reservation, or nothing (no budget reserved). */
  billings: CallBilling[];
  /** micro-USD billed to reservations no call in flight names (`takenOver`), included in `billedMicros`. */
  leftMicros: number;
}

/**
 * Ends the model calls of a run that started and never ended, when the run is ended by someone
 * other than the call (a stop, or the process that made it dying). Each is billed what the
 * budget book booked for its reservation, so the journal and the book agree. The reservation is
 * settled first at its full amount, the worst case, since the provider may have generated all of it
 * and no usage says otherwise; the book settles an id once, so when someone settled it before (the
 * governed path before the call returned, the dead process before journaling its end, or the old
 * holder, alive past its lease, as the run was taken from it) this changes nothing and the call is
 * billed what the book says it was settled at (settleHeld, left-reservations.ts). Nothing is settled
 * after the events are built: a crash before they are journaled leaves the reservation settled and
 * unbilled, and whoever ends the call next bills what the book settled. A call with no reservation
 * (no budget applied) is ended with no cost. Other steps are left as they are: whether a tool's
 * effect happened is not known, and a run that ends does not run them again either way.
 */
export async function endCallsInFlight(options: CallsInFlightOptions): Promise<CallsInFlight> {
  const { state, events, writer, budgets, priceVersion } = options;
  const ending: JournalEvent[] = [];
  const billings: CallBilling[] = [];
  const billedIds = new Set<string>();
  let billedMicros = 0;
  for (const step of state.steps.values()) {
    if (step.end !== undefined || step.kind !== 'model-call') continue;
    const reservation = lastReservation(events, step.step);
    let cost: EventData['step-end']['cost'];
    let billing: CallBilling = { step: step.step, from: 'unreserved' };
    if (reservation !== undefined) {
      if (reservation.reservationId !== undefined) billedIds.add(reservation.reservationId);
      const full = { micros: reservation.reservedMicros, tokens: reservation.reservedTokens };
      // No id to settle by (a journal from before reservation ids), or no book: the reservation the journal names, which a hold's expiry books in full.
      const booked = reservation.reservationId === undefined || budgets === undefined ? { from: 'reservation' as const, amount: full } : await settleHeld(budgets, reservation.reservationId, full);
      cost = { micros: booked.amount.micros, priceVersion: booked.from === 'settlement' ? bookPriceVersion : priceVersion };
      billing = { step: step.step, from: booked.from, micros: booked.amount.micros };
      billedMicros += cost.micros;
    }
    billings.push(billing);
    const error: ErrorData = { ...options.failure(describeBilling(billing)), retryable: false };
    const data: EventData['step-end'] = { step: step.step, name: step.name, kind: step.kind, epoch: step.epoch, durationMs: 0, outcome: { ok: false, error } };
    if (cost !== undefined) data.cost = cost;
    ending.push(writer.build('step-end', data));
  }
  const left =
    options.takenOver === undefined ? undefined : await billLeftReservations({ runId: state.runId, events, writer, budgets, billedElsewhere: billedIds, why: options.takenOver });
  return {
    events: left === undefined ? ending : [...ending, ...left.events],
    billedMicros: billedMicros + (left?.billedMicros ?? 0),
    billings,
    leftMicros: left?.billedMicros ?? 0,
  };
}

/**
 * The worst case reserved for the step's model in flight: its latest reservation, unless a fallback
 * followed it (that model failed, and a failed call's reservation is given back at zero).
 */
function lastReservation(events: readonly JournalEvent[], step: number): EventData['budget-decision'] | undefined {
  for (let index = events.length - 1; index >= 0; index -= 1) {
    const event = events[index];
    if (event?.type === 'model-fallback' && event.data.step === step) return undefined;
    if (event?.type === 'budget-decision' && event.data.step === step && event.data.outcome === 'reserved') return event.data;
  }
  return undefined;
}
