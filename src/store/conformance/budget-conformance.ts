/**
 * The conformance suite of a budget book (src/spec/budget-store-v1.ts). `first` and `second` are
 * two handles on one book (for a store: two connections to one database, as two processes would
 * hold), so the suite can race them against each other.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { BudgetLedger } from '../../cost/index.ts';
import type { BudgetLimitV1, BudgetReserveRequestV1, BudgetStoreV1 } from '../../spec/index.ts';

export interface BudgetBooksUnderTest {
  first: BudgetStoreV1;
  second: BudgetStoreV1;
  dispose: () => Promise<void>;
}

export type BudgetBooksFactory = () => Promise<BudgetBooksUnderTest>;

const minute = 60_000;
const start = Date.UTC(2030, 0, 15, 12, 0, 0);

function request(limits: BudgetLimitV1[], micros: number, overrides: Partial<BudgetReserveRequestV1> = {}): BudgetReserveRequestV1 {
  return { reservationId: randomUUID(), limits, amount: { micros, tokens: micros / 10 }, expiresInMs: 5 * minute, nowMs: start, ...overrides };
}

function scope(limitMicros: number | null, limitTokens: number | null = null): BudgetLimitV1 {
  return { key: `tenant:t-${randomUUID()}`, micros: limitMicros, tokens: limitTokens };
}

async function withBooks(factory: BudgetBooksFactory, work: (books: BudgetBooksUnderTest) => Promise<void>): Promise<void> {
  const books = await factory();
  try {
    await work(books);
  } finally {
    await books.dispose();
  }
}

export function runBudgetConformance(label: string, factory: BudgetBooksFactory | { skip: string }): void {
  describe(`budget book conformance: ${label}`, { skip: 'skip' in factory ? factory.skip : false }, () => {
    if ('skip' in factory) return;

    void test('concurrent reservations through two handles never overshoot, and settle to exactly what was spent', async () => {
      await withBooks(factory, async ({ first, second }) => {
        const tenantDay = scope(1000);
        const run = scope(null, 10_000);
        const attempts = Array.from({ length: 40 }, (_, index) => {
          const reservation = request([run, tenantDay], 100);
          return (index % 2 === 0 ? first : second).reserveBudget(reservation).then((outcome) => ({ reservation, outcome }));
        });
        const outcomes = await Promise.all(attempts);
        const granted = outcomes.filter((attempt) => attempt.outcome.ok);
        assert.equal(granted.length, 10, 'exactly the limit is reserved, whichever handle asked');
        for (const refused of outcomes.filter((attempt) => !attempt.outcome.ok)) {
          assert.deepEqual(refused.outcome, { ok: false, key: tenantDay.key, field: 'micros', committed: 1000, limit: 1000 });
        }
        assert.deepEqual(await first.readBudget(tenantDay.key, start), { spent: { micros: 0, tokens: 0 }, reserved: { micros: 1000, tokens: 100 } });
        await Promise.all(granted.map((attempt, index) => (index % 2 === 0 ? second : first).settleBudget({ reservationId: attempt.reservation.reservationId, actual: { micros: 70, tokens: 7 } })));
        assert.deepEqual(await second.readBudget(tenantDay.key, start), { spent: { micros: 700, tokens: 70 }, reserved: { micros: 0, tokens: 0 } });
        assert.deepEqual(await second.readBudget(run.key, start), { spent: { micros: 700, tokens: 70 }, reserved: { micros: 0, tokens: 0 } });
        // What settling freed is reservable again: 300 left.
        assert.equal((await first.reserveBudget(request([tenantDay], 300))).ok, true);
        assert.equal((await second.reserveBudget(request([tenantDay], 1))).ok, false);
      });
    });

    void test('a refusal names the scope and field, reserves nowhere, and a token limit refuses too', async () => {
      await withBooks(factory, async ({ first }) => {
        const roomy = scope(10_000);
        const tight = scope(null, 50);
        const refused = await first.reserveBudget(request([roomy, tight], 600));
        assert.deepEqual(refused, { ok: false, key: tight.key, field: 'tokens', committed: 0, limit: 50 });
        assert.deepEqual((await first.readBudget(roomy.key, start)).reserved, { micros: 0, tokens: 0 });
        assert.deepEqual(await first.readBudget(`never-used-${randomUUID()}`, start), { spent: { micros: 0, tokens: 0 }, reserved: { micros: 0, tokens: 0 } });
      });
    });

    void test('settle reports each scope before and after, once; settling again or an unknown id changes nothing', async () => {
      await withBooks(factory, async ({ first, second }) => {
        const tenant = scope(1000);
        const earlier = request([tenant], 200);
        assert.equal((await first.reserveBudget(earlier)).ok, true);
        await first.settleBudget({ reservationId: earlier.reservationId, actual: { micros: 150, tokens: 15 } });
        const reservation = request([tenant], 400);
        assert.equal((await first.reserveBudget(reservation)).ok, true);
        const settled = await second.settleBudget({ reservationId: reservation.reservationId, actual: { micros: 320, tokens: 32 } });
        assert.deepEqual(settled, [{ key: tenant.key, before: { micros: 150, tokens: 15 }, after: { micros: 470, tokens: 47 } }]);
        assert.deepEqual(await first.settleBudget({ reservationId: reservation.reservationId, actual: { micros: 999, tokens: 1 } }), []);
        assert.deepEqual(await first.settleBudget({ reservationId: randomUUID(), actual: { micros: 999, tokens: 1 } }), []);
        assert.deepEqual(await first.readBudget(tenant.key, start), { spent: { micros: 470, tokens: 47 }, reserved: { micros: 0, tokens: 0 } });
      });
    });

    void test('a reservation its process never settled counts as reserved until it expires, then as spent at its full amount; a late settle corrects it', async () => {
      await withBooks(factory, async ({ first, second }) => {
        const tenant = scope(1000);
        const abandoned = request([tenant], 600, { expiresInMs: 5 * minute });
        assert.equal((await first.reserveBudget(abandoned)).ok, true);
        // Just before expiry: still held, so only 400 is left.
        const beforeExpiry = start + 5 * minute - 1;
        assert.equal((await second.reserveBudget(request([tenant], 500, { nowMs: beforeExpiry }))).ok, false);
        assert.deepEqual(await second.readBudget(tenant.key, beforeExpiry), { spent: { micros: 0, tokens: 0 }, reserved: { micros: 600, tokens: 60 } });
        // Past expiry: booked as spent (pessimistically), no longer reserved; still only 400 left.
        const afterExpiry = start + 5 * minute + 1;
        assert.deepEqual(await second.readBudget(tenant.key, afterExpiry), { spent: { micros: 600, tokens: 60 }, reserved: { micros: 0, tokens: 0 } });
        assert.equal((await second.reserveBudget(request([tenant], 500, { nowMs: afterExpiry }))).ok, false);
        const rest = request([tenant], 400, { nowMs: afterExpiry });
        assert.equal((await second.reserveBudget(rest)).ok, true);
        assert.deepEqual(await first.readBudget(tenant.key, afterExpiry), { spent: { micros: 600, tokens: 60 }, reserved: { micros: 400, tokens: 40 } });
        // The process was only slow: its settle replaces the pessimistic 600 by the actual 250.
        const late = await first.settleBudget({ reservationId: abandoned.reservationId, actual: { micros: 250, tokens: 25 } });
        assert.deepEqual(late, [{ key: tenant.key, before: { micros: 600, tokens: 60 }, after: { micros: 250, tokens: 25 } }]);
        await second.settleBudget({ reservationId: rest.reservationId, actual: { micros: 400, tokens: 40 } });
        assert.deepEqual(await first.readBudget(tenant.key, afterExpiry), { spent: { micros: 650, tokens: 65 }, reserved: { micros: 0, tokens: 0 } });
      });
    });

    void test('a run\'s reservations are listed by its run id through either handle: held at their amount (expired too), settled at their actual', async () => {
      await withBooks(factory, async ({ first, second }) => {
        const runId = `run-${randomUUID()}`;
        const tenant = scope(10_000);
        const run = scope(null);
        const held = request([tenant, run], 300, { runId });
        const settled = request([tenant], 200, { runId });
        const lapsed = request([tenant], 100, { runId, expiresInMs: minute });
        const otherRun = request([tenant], 50, { runId: `run-${randomUUID()}` });
        const noRun = request([tenant], 40);
        for (const reservation of [held, settled, lapsed, otherRun, noRun]) assert.equal((await first.reserveBudget(reservation)).ok, true);
        await second.settleBudget({ reservationId: settled.reservationId, actual: { micros: 120, tokens: 12 } });
        await second.settleBudget({ reservationId: otherRun.reservationId, actual: { micros: 5, tokens: 1 } });
        // Past the third's expiry: booked as spent, still held (unsettled) in the listing.
        assert.deepEqual((await second.readBudget(tenant.key, start + 2 * minute)).spent, { micros: 225, tokens: 23 });
        const listed = await second.readRunReservations?.(runId);
        assert.ok(listed !== undefined, 'the book lists a run\'s reservations');
        assert.deepEqual(
          listed.sort((left, right) => left.reservationId.localeCompare(right.reservationId)),
          [
            { reservationId: held.reservationId, state: 'held', amount: { micros: 300, tokens: 30 } },
            { reservationId: settled.reservationId, state: 'settled', actual: { micros: 120, tokens: 12 } },
            { reservationId: lapsed.reservationId, state: 'held', amount: { micros: 100, tokens: 10 } },
          ].sort((left, right) => left.reservationId.localeCompare(right.reservationId)),
        );
        assert.deepEqual(await first.readRunReservations?.(`run-${randomUUID()}`), []);
      });
    });

    void test('daily budgets are keyed by the UTC date: spend up to the limit before midnight, a fresh budget after it', async () => {
      await withBooks(factory, async ({ first, second }) => {
        let now = new Date('2030-03-31T23:59:59.000Z');
        const rules = [{ scope: 'tenant-day' as const, micros: 500, alertAt: [0.8] }];
        const ledgers = [new BudgetLedger(rules, { book: first, clock: () => now }), new BudgetLedger(rules, { book: second, clock: () => now })];
        const tenant = `t-${randomUUID()}`;
        const context = (index: number) => ({ runId: `run-${index}`, task: 'daily', tenant });
        const alerts: string[] = [];
        let granted = 0;
        for (let index = 0; ; index += 1) {
          const ledger = ledgers[index % 2] as BudgetLedger;
          const outcome = await ledger.reserve(context(index), { micros: 120, tokens: 10 });
          if (!outcome.ok) {
            assert.equal(outcome.scope, `tenant:${tenant}:day:2030-03-31`);
            break;
          }
          granted += 1;
          for (const alert of await ledger.settle(outcome.reservation, { micros: 100, tokens: 8 })) alerts.push(`${alert.scope}@${alert.threshold}`);
        }
        // 100 settled per call: after 4 calls 400 spent, and a 5th worst case of 120 would pass 500.
        assert.equal(granted, 4);
        assert.deepEqual(alerts, [`tenant:${tenant}:day:2030-03-31@0.8`], 'the 80% alert is raised once, by whichever process crossed it');
        assert.deepEqual(await ledgers[0]?.spent(`tenant:${tenant}:day:2030-03-31`), { micros: 400, tokens: 32 });
        now = new Date('2030-04-01T00:00:00.000Z');
        const nextDay = await ledgers[1]?.reserve(context(99), { micros: 480, tokens: 10 });
        assert.equal(nextDay?.ok, true, 'a new UTC day starts a new budget');
        if (nextDay?.ok === true) await ledgers[1]?.settle(nextDay.reservation, { micros: 480, tokens: 10 });
        assert.deepEqual(await ledgers[0]?.spent(`tenant:${tenant}:day:2030-04-01`), { micros: 480, tokens: 10 });
        assert.deepEqual(await ledgers[0]?.spent(`tenant:${tenant}:day:2030-03-31`), { micros: 400, tokens: 32 });
      });
    });
  });
}

/**
 * A book opened on a database written before reservations carried their run (schema v12), where
 * the test left, under `tenant:acme`, a hold `held-before` of 500 micro-USD / 50 tokens and a
 * settlement `settled-before` at 120 / 12: both still read and the hold still settles, and a new
 * reservation is listed by its run while the old hold is in no run's listing.
 */
export async function checkBookFromBeforeRunIds(book: Required<Pick<BudgetStoreV1, 'readReservation' | 'readRunReservations'>> & BudgetStoreV1): Promise<void> {
  assert.deepEqual(await book.readReservation('held-before'), { state: 'held', amount: { micros: 500, tokens: 50 } });
  assert.deepEqual(await book.readReservation('settled-before'), { state: 'settled', actual: { micros: 120, tokens: 12 } });
  assert.deepEqual(await book.readBudget('tenant:acme'), { spent: { micros: 120, tokens: 12 }, reserved: { micros: 500, tokens: 50 } });
  // A new reservation names its run; the old hold still settles, and belongs to no run's listing.
  assert.deepEqual(await book.reserveBudget({ reservationId: 'held-now', limits: [{ key: 'tenant:acme', micros: null, tokens: null }], amount: { micros: 70, tokens: 7 }, expiresInMs: 60_000, runId: 'run-now' }), { ok: true });
  assert.deepEqual(await book.readRunReservations('run-now'), [{ reservationId: 'held-now', state: 'held', amount: { micros: 70, tokens: 7 } }]);
  await book.settleBudget({ reservationId: 'held-before', actual: { micros: 300, tokens: 30 } });
  assert.deepEqual(await book.readReservation('held-before'), { state: 'settled', actual: { micros: 300, tokens: 30 } });
  assert.deepEqual(await book.readBudget('tenant:acme'), { spent: { micros: 420, tokens: 42 }, reserved: { micros: 70, tokens: 7 } });
}
