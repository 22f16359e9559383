import type { EventData, JournalEvent, JournalWriter } from '../journal/index.ts';
import type { BudgetAmountV1, BudgetReservationV1, BudgetStoreV1 } from '../spec/index.ts';

/** The price version of a cost that is what the budget book booked for a call, not priced here. */
export const bookPriceVersion = 'budget-book';

export interface LeftReservationsOptions {
  runId: string;
  /** The run's journal as stored (or opened), every event of the process that left it landed or lost. */
  events: readonly JournalEvent[];
  writer: JournalWriter;
  /** The store's budget book; absent: nothing is billed (no book, nothing booked). */
  budgets: BudgetStoreV1 | undefined;
  /** Reservations billed in the same append by other means (the failed step-ends of calls in flight). */
  billedElsewhere?: ReadonlySet<string>;
  /** Why the run's own process did not bill them, for each event's reason: `its process (worker w-1) died`. */
  why: string;
}

/** The billing of what a run's dead process reserved and its journal never billed. */
export interface LeftReservations {
  /** One `reservation-bill` per reservation billed, built on the writer, to append with what takes the run over or ends it. */
  events: JournalEvent[];
  /** micro-USD billed by them together. */
  billedMicros: number;
}

/** What the book booked for a reservation a takeover bills: its full amount, or what someone settled it at. */
export interface BookedAmount {
  from: 'reservation' | 'settlement';
  amount: BudgetAmountV1;
}

/**
 * Settles a reservation the book held at its full amount before any journal bills it, then says
 * what the book booked for it, for the journal to bill exactly that. The old holder of a run may be
 * alive with its lease lost, and settle its call at what it cost between the taker's read and this
 * settle: the book settles an id once, so this settle then changes nothing, and the book is read
 * back for what the old holder settled (`settlement`). When this settle wins, the old holder's
 * later one changes nothing, and the full amount is what was booked (`reservation`). Settling
 * before journaling is safe: a crash or a refused append in between leaves the reservation settled
 * and unbilled, which the next taker bills at what the book settled (billLeftReservations, or
 * endCallsInFlight for a call in flight); and a hold nobody settles is booked in full at its expiry
 * anyway. When the store cannot be reached for the settle or the read, the full amount is billed,
 * as before this rule: the hold's expiry books that amount, unless the old holder settles it for
 * less first, the one case where the journal and the book can still differ.
 */
export async function settleHeld(budgets: BudgetStoreV1, reservationId: string, full: BudgetAmountV1): Promise<BookedAmount> {
  const settled = await budgets.settleBudget({ reservationId, actual: full }).catch(() => undefined);
  // A settle that changed the book names the scopes it settled: this one won.
  if (settled !== undefined && settled.length > 0) return { from: 'reservation', amount: full };
  const booked = await budgets.readReservation?.(reservationId).catch(() => undefined);
  if (booked?.state === 'settled') return { from: 'settlement', amount: booked.actual };
  // Still held (the settle failed), unknown to the book, or the store unreachable: the full amount, as the expiry books it.
  return { from: 'reservation', amount: full };
}

/**
 * Bills every reservation of a run that its journal does not bill, for whoever takes the run over
 * after the process executing it died (a resumed execution, a stop, a dead gateway's sweep): a model
 * call it made reserved budget in the book, and either its step never ended in the journal (the
 * process died mid-call, or before its pipelined events landed), or its budget decision never reached
 * the journal at all (the book knows the reservation by its run). Each is journaled as a
 * `reservation-bill` at what the book booked for it: a held reservation is first settled at its full
 * amount (the provider may have generated all of it, and the usage that would say otherwise died
 * with the process) and billed what the book then holds (settleHeld: that amount, or what the old
 * holder, alive past its lease, settled first); one the dead process settled, at what it settled
 * (nothing to settle); one settled at zero is not journaled (nothing was booked). A reservation the
 * book no longer remembers (settled or expired over a day ago, or a memory book that died with its
 * process) is not billed: nothing can say what was booked for it.
 *
 * A reservation is billed by the journal when a `reservation-bill` names it, or when its budget
 * decision is followed by its step's end in the same execution (no `run-resume` between them), since
 * that step-end carries the call's cost. A redone step's end does not bill the reservation of the
 * attempt before it. So this is called before the taking-over execution reserves anything: a
 * reservation the live process holds is never billed (nor settled) here.
 */
export async function billLeftReservations(options: LeftReservationsOptions): Promise<LeftReservations> {
  const { runId, writer, budgets } = options;
  const none: LeftReservations = { events: [], billedMicros: 0 };
  if (budgets === undefined) return none;
  const { billed, unbilled } = journalBilling(options.events);
  const skipped = (reservationId: string) => billed.has(reservationId) || options.billedElsewhere?.has(reservationId) === true;
  const booked = new Map<string, BudgetReservationV1>();
  for (const listed of (await budgets.readRunReservations?.(runId)) ?? []) if (!skipped(listed.reservationId)) booked.set(listed.reservationId, listed);
  // Reservations made before the book kept their run (or by a book that lists none) are found by the id the journal names.
  for (const reservationId of unbilled.keys()) {
    if (booked.has(reservationId) || skipped(reservationId)) continue;
    const read = await budgets.readReservation?.(reservationId);
    if (read !== undefined) booked.set(reservationId, read);
  }
  if (booked.size === 0) return none;
  // Those the journal names first, in its order, then those only the book knows, by id: the same journal gives the same events.
  const order = [...unbilled.keys()].filter((reservationId) => booked.has(reservationId));
  order.push(...[...booked.keys()].filter((reservationId) => !unbilled.has(reservationId)).sort());
  const called = callsNamed(options.events);
  const events: JournalEvent[] = [];
  let billedMicros = 0;
  for (const reservationId of order) {
    const reservation = booked.get(reservationId) as BudgetReservationV1;
    const { from, amount } = reservation.state === 'held' ? await settleHeld(budgets, reservationId, reservation.amount) : { from: 'settlement' as const, amount: reservation.actual };
    if (from === 'settlement' && amount.micros === 0 && amount.tokens === 0) continue;
    const step = unbilled.get(reservationId);
    const data: EventData['reservation-bill'] = {
      reservationId,
      from,
      cost: { micros: amount.micros, priceVersion: bookPriceVersion },
      tokens: amount.tokens,
      reason:
        `${step === undefined ? 'a model call whose budget decision never reached the journal' : `the model call of step ${step}, never ended`}: ${options.why}; ` +
        (from === 'reservation' ? `billed its reservation, ${amount.micros} micro-USD, the most it can have cost` : `billed what the budget book settled it at, ${amount.micros} micro-USD`),
    };
    if (step !== undefined) data.step = step;
    const call = called.get(reservationId);
    if (call?.model !== undefined) data.model = call.model;
    if (call?.route !== undefined) data.route = call.route;
    events.push(writer.build('reservation-bill', data));
    billedMicros += amount.micros;
  }
  return { events, billedMicros };
}

/** The model and route of each reservation a budget decision names: the decision's model, and its step's latest route decision before it. */
function callsNamed(events: readonly JournalEvent[]): Map<string, { model: string; route?: string }> {
  const routes = new Map<number, string>();
  const calls = new Map<string, { model: string; route?: string }>();
  for (const event of events) {
    if (event.type === 'route-decision') routes.set(event.data.step, event.data.route);
    else if (event.type === 'budget-decision' && event.data.reservationId !== undefined) {
      const route = routes.get(event.data.step);
      calls.set(event.data.reservationId, { model: `${event.data.provider}:${event.data.modelId}`, ...(route === undefined ? {} : { route }) });
    } else if (event.type === 'run-resume') routes.clear();
  }
  return calls;
}

/**
 * What a journal bills: the reservations a `reservation-bill` names or whose step ended in the
 * execution that reserved them (`billed`), and those its budget decisions name that it does not
 * bill, with their step, in journal order (`unbilled`).
 */
export function journalBilling(events: readonly JournalEvent[]): { billed: Set<string>; unbilled: Map<string, number> } {
  const billed = new Set<string>();
  const unbilled = new Map<string, number>();
  // The current execution's reservations whose step has not ended yet, by id.
  let open = new Map<string, number>();
  for (const event of events) {
    switch (event.type) {
      case 'budget-decision':
        if (event.data.outcome === 'reserved' && event.data.reservationId !== undefined) open.set(event.data.reservationId, event.data.step);
        break;
      case 'step-end':
        for (const [reservationId, step] of open) {
          if (step !== event.data.step) continue;
          billed.add(reservationId);
          open.delete(reservationId);
        }
        break;
      case 'reservation-bill':
        billed.add(event.data.reservationId);
        open.delete(event.data.reservationId);
        unbilled.delete(event.data.reservationId);
        break;
      case 'run-resume':
        // The execution before this one is over: what it left open, it never ended.
        for (const [reservationId, step] of open) unbilled.set(reservationId, step);
        open = new Map();
        break;
      default:
        break;
    }
  }
  for (const [reservationId, step] of open) unbilled.set(reservationId, step);
  return { billed, unbilled };
}
