/**
 * Whoever takes over a run whose process died bills every reservation of the run its journal does
 * not bill, before going on, so the run's journaled cost equals its scopes' spend with nothing left
 * reserved: on SQLite and PostgreSQL, for a resumed execution that redoes the model call, and for
 * a stop of the dead process's run. The run is written as the process left it (leaveRunMidCall):
 * its model call started, its reservation held in the store's book; its budget decision journaled,
 * or (killed before its pipelined batch was flushed) not, in which case only the book, which keeps
 * each reservation's run, knows of the hold. The old holder may also be alive with its lease lost:
 * it settles its call as the taker is about to (withSettleHook), and the journal still bills what
 * the book booked.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createKeel } from '../../src/agent/index.ts';
import type { Keel } from '../../src/agent/index.ts';
import type { KeelConfig } from '../../src/config/index.ts';
import { defineTask } from '../../src/engine/index.ts';
import { leaveRunMidCall, taskConfigHash } from '../../src/engine/testing/index.ts';
import type { JournalEvent } from '../../src/journal/index.ts';
import { loadRun } from '../../src/journal/index.ts';
import type { AgentRuntime } from '../../src/agent/index.ts';
import type { BudgetAmountV1, BudgetSettledScopeV1, BudgetSettleRequestV1, BudgetStoreV1, StoreV1 } from '../../src/spec/index.ts';
import { PostgresStore, SqliteStore } from '../../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from '../../src/store/testing/index.ts';

const postgres = await openTestPostgres();
const reserved = { micros: 5_000, tokens: 600 };
const config: KeelConfig = { version: 1, routes: [{ name: 'budgeted', models: ['sim:fast'] }], budgets: [{ scope: 'tenant', micros: 1_000_000 }] };

let runtime: AgentRuntime | undefined;
/** One model call through the budgeted route: redone when the run is resumed. */
const task = defineTask({
  name: 'left-reservations',
  version: '1',
  run: async (context) => {
    if (runtime === undefined) throw new Error('no runtime yet');
    const answer = await context.model('chat', runtime.model('budgeted', { task: 'left-reservations' }), { messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }], maxOutputTokens: 50 });
    return answer.content.length;
  },
});

interface Opened {
  store: StoreV1;
  dispose: () => Promise<void>;
}

const stores: Record<string, (() => Promise<Opened>) | { skip: string }> = {
  sqlite: () => {
    const folder = mkdtempSync(join(tmpdir(), 'keel-left-reservations-'));
    const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
    return Promise.resolve({
      store,
      dispose: async () => {
        await store.close();
        rmSync(folder, { recursive: true, force: true });
      },
    });
  },
  postgres:
    'skipReason' in postgres
      ? { skip: postgres.skipReason }
      : async () => {
          const schema = uniqueSchemaName('keel_left_reservations');
          const store = await PostgresStore.open({ url: postgres.url, schema });
          return {
            store,
            dispose: async () => {
              await store.close();
              await dropSchema(postgres.url, schema);
            },
          };
        },
};

/**
 * The store as given, with each settle of its budget book passed through `settle` first (`next`
 * settles it in the book): a test acts right before or after a settle lands. Everything else is the store's.
 */
function withSettleHook(store: StoreV1, settle: (request: BudgetSettleRequestV1, next: () => Promise<BudgetSettledScopeV1[]>) => Promise<BudgetSettledScopeV1[]>): StoreV1 {
  const budgets = store.budgets;
  assert.ok(budgets !== undefined, 'the store keeps a budget book');
  const book: BudgetStoreV1 = {
    budgetSpecificationVersion: 'v1',
    reserveBudget: (request) => budgets.reserveBudget(request),
    settleBudget: (request) => settle(request, () => budgets.settleBudget(request)),
    readBudget: (key, nowMs) => budgets.readBudget(key, nowMs),
    readReservation: (reservationId) => budgets.readReservation?.(reservationId) ?? Promise.resolve(undefined),
    readRunReservations: (runId) => budgets.readRunReservations?.(runId) ?? Promise.resolve([]),
  };
  return new Proxy(store, {
    get: (target, property) => {
      if (property === 'budgets') return book;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...values: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * A run's old holder, alive but past its lease: it settles its call at `actual` right before the
 * taker's first settle of `reservationId` reaches the book, the moment between a takeover reading a
 * hold and settling it. (Its own step-end never lands: its appends are fenced by the lease.)
 */
function oldHolderSettlingFirst(actual: BudgetAmountV1) {
  const race = { reservationId: '', settled: false };
  const hook = (store: StoreV1) =>
    withSettleHook(store, async (request, next) => {
      if (request.reservationId === race.reservationId && !race.settled) {
        race.settled = true;
        await store.budgets?.settleBudget({ reservationId: request.reservationId, actual });
      }
      return next();
    });
  return { race, hook };
}

async function withKeel(open: () => Promise<Opened>, work: (keel: Keel) => Promise<void>, wrap: (store: StoreV1) => StoreV1 = (store) => store): Promise<void> {
  const { store: opened, dispose } = await open();
  const store = wrap(opened);
  const keel = await createKeel({ store, config, tasks: [task], environment: {}, workerId: 'worker-taking-over' });
  runtime = keel.runtime;
  try {
    await work(keel);
  } finally {
    await keel.close();
    await dispose();
  }
}

/** The run's journaled cost, its scope's spend and reservations, and its reservation-bill events. */
async function books(keel: Keel, runId: string, scope: string) {
  const run = await keel.store.getRun(runId);
  const { events, state } = await loadRun(keel.store, runId);
  const budgets = keel.store.budgets;
  assert.ok(budgets !== undefined);
  const account = await budgets.readBudget(scope);
  const bills = events.filter((event): event is Extract<JournalEvent, { type: 'reservation-bill' }> => event.type === 'reservation-bill');
  const stepCosts = events.reduce((sum, event) => sum + (event.type === 'step-end' ? (event.data.cost?.micros ?? 0) : 0), 0);
  return { run, state, events, bills, stepCosts, account };
}

for (const [name, open] of Object.entries(stores)) {
  const skip = typeof open === 'function' ? false : open.skip;
  describe(`a run taken over from a dead process (${name})`, { skip }, () => {
    if (typeof open !== 'function') return;

    test('resumed after dying mid-call with its budget decision journaled: the held reservation is settled in full, then billed that; journal == book, nothing reserved', async () => {
      await withKeel(open, async (keel) => {
        const left = await leaveRunMidCall(keel.store, { task: task.name, configHash: taskConfigHash(task), reserved, expiresInMs: 5 * 60 * 1000 });
        const outcome = await keel.resume(left.runId);
        assert.ok(!('abandoned' in outcome) && outcome.status === 'ok', JSON.stringify(outcome));
        const { run, bills, stepCosts, account, events } = await books(keel, left.runId, left.scope);
        assert.deepEqual(
          bills.map((bill) => ({ id: bill.data.reservationId, step: bill.data.step, from: bill.data.from, micros: bill.data.cost.micros, tokens: bill.data.tokens })),
          [{ id: left.reservationId, step: 1, from: 'reservation', micros: reserved.micros, tokens: reserved.tokens }],
        );
        // Billed with the takeover, before the redone call reserved anything.
        const resumedAt = events.findLastIndex((event) => event.type === 'run-resume');
        assert.equal(events[resumedAt + 1]?.type, 'reservation-bill');
        // Named after the call its budget decision journaled, for metrics and readers.
        assert.equal(bills[0]?.data.model, 'openai:gpt-4o-mini');
        assert.ok(stepCosts > 0, 'the redone call was billed from its usage');
        assert.equal(run?.costMicros, reserved.micros + stepCosts);
        assert.deepEqual({ journal: run?.costMicros, spent: account.spent.micros, reserved: account.reserved.micros }, { journal: reserved.micros + stepCosts, spent: reserved.micros + stepCosts, reserved: 0 });
        assert.deepEqual(await keel.store.budgets?.readReservation?.(left.reservationId), { state: 'settled', actual: reserved });
      });
    });

    test('resumed after dying before its budget decision reached the journal: the hold only the book knows is billed by its run; journal == book, nothing reserved', async () => {
      await withKeel(open, async (keel) => {
        const left = await leaveRunMidCall(keel.store, { task: task.name, configHash: taskConfigHash(task), reserved, expiresInMs: 5 * 60 * 1000, journalDecision: false });
        const before = await loadRun(keel.store, left.runId);
        assert.ok(!before.events.some((event) => event.type === 'budget-decision'), 'no journal names the hold');
        const outcome = await keel.resume(left.runId);
        assert.ok(!('abandoned' in outcome) && outcome.status === 'ok', JSON.stringify(outcome));
        const { run, bills, stepCosts, account } = await books(keel, left.runId, left.scope);
        assert.deepEqual(
          bills.map((bill) => ({ id: bill.data.reservationId, step: bill.data.step, from: bill.data.from, micros: bill.data.cost.micros })),
          [{ id: left.reservationId, step: undefined, from: 'reservation', micros: reserved.micros }],
        );
        assert.deepEqual({ journal: run?.costMicros, spent: account.spent.micros, reserved: account.reserved.micros }, { journal: reserved.micros + stepCosts, spent: reserved.micros + stepCosts, reserved: 0 });
      });
    });

    test('resumed after its process settled the call and died before journaling its end: billed what the book settled, settled once', async () => {
      await withKeel(open, async (keel) => {
        const left = await leaveRunMidCall(keel.store, { task: task.name, configHash: taskConfigHash(task), reserved, expiresInMs: 5 * 60 * 1000, journalDecision: false });
        await keel.store.budgets?.settleBudget({ reservationId: left.reservationId, actual: { micros: 1_234, tokens: 210 } });
        const outcome = await keel.resume(left.runId);
        assert.ok(!('abandoned' in outcome) && outcome.status === 'ok');
        const { run, bills, stepCosts, account } = await books(keel, left.runId, left.scope);
        assert.deepEqual(
          bills.map((bill) => ({ from: bill.data.from, micros: bill.data.cost.micros })),
          [{ from: 'settlement', micros: 1_234 }],
        );
        assert.deepEqual({ journal: run?.costMicros, spent: account.spent.micros, reserved: account.reserved.micros }, { journal: 1_234 + stepCosts, spent: 1_234 + stepCosts, reserved: 0 });
      });
    });

    test('resumed while its old holder, alive past its lease, settles the call for less just before the taker settles it: billed what the book settled; journal == book', async () => {
      const actual = { micros: 1_234, tokens: 210 };
      const { race, hook } = oldHolderSettlingFirst(actual);
      await withKeel(
        open,
        async (keel) => {
          const left = await leaveRunMidCall(keel.store, { task: task.name, configHash: taskConfigHash(task), reserved, expiresInMs: 5 * 60 * 1000 });
          race.reservationId = left.reservationId;
          const outcome = await keel.resume(left.runId);
          assert.ok(!('abandoned' in outcome) && outcome.status === 'ok', JSON.stringify(outcome));
          assert.ok(race.settled, 'the old holder settled between the takeover\'s read and its settle');
          const { run, bills, stepCosts, account } = await books(keel, left.runId, left.scope);
          assert.deepEqual(
            bills.map((bill) => ({ id: bill.data.reservationId, from: bill.data.from, micros: bill.data.cost.micros, tokens: bill.data.tokens })),
            [{ id: left.reservationId, from: 'settlement', micros: actual.micros, tokens: actual.tokens }],
          );
          assert.deepEqual(await keel.store.budgets?.readReservation?.(left.reservationId), { state: 'settled', actual });
          assert.deepEqual({ journal: run?.costMicros, spent: account.spent.micros, reserved: account.reserved.micros }, { journal: actual.micros + stepCosts, spent: actual.micros + stepCosts, reserved: 0 });
        },
        hook,
      );
    });

    test('a takeover that settled a hold and lost the run before journaling its bill leaves it settled; the next takeover bills what the book settled, once', async () => {
      const lost = { reservationId: '', runId: '', settled: false };
      await withKeel(
        open,
        async (keel) => {
          const left = await leaveRunMidCall(keel.store, { task: task.name, configHash: taskConfigHash(task), reserved, expiresInMs: 5 * 60 * 1000 });
          Object.assign(lost, { reservationId: left.reservationId, runId: left.runId });
          // The first takeover's settle lands, then its lease is broken: its append is fenced, as a crash leaves it unjournaled.
          const first = await keel.resume(left.runId);
          assert.ok('abandoned' in first && first.abandoned === 'lease-lost', JSON.stringify(first));
          assert.ok(lost.settled);
          const between = await books(keel, left.runId, left.scope);
          assert.deepEqual({ bills: between.bills.length, resumes: between.events.filter((event) => event.type === 'run-resume').length }, { bills: 0, resumes: 1 }, 'nothing of the first takeover reached the journal');
          assert.deepEqual(await keel.store.budgets?.readReservation?.(left.reservationId), { state: 'settled', actual: reserved }, 'the book was settled first, at the full hold');
          const second = await keel.resume(left.runId);
          assert.ok(!('abandoned' in second) && second.status === 'ok', JSON.stringify(second));
          const { run, bills, stepCosts, account } = await books(keel, left.runId, left.scope);
          assert.deepEqual(
            bills.map((bill) => ({ id: bill.data.reservationId, from: bill.data.from, micros: bill.data.cost.micros })),
            [{ id: left.reservationId, from: 'settlement', micros: reserved.micros }],
          );
          assert.deepEqual({ journal: run?.costMicros, spent: account.spent.micros, reserved: account.reserved.micros }, { journal: reserved.micros + stepCosts, spent: reserved.micros + stepCosts, reserved: 0 });
        },
        (store) =>
          withSettleHook(store, async (request, next) => {
            const scopes = await next();
            if (request.reservationId === lost.reservationId && !lost.settled) {
              lost.settled = true;
              assert.equal(await store.breakLease(lost.runId, 'worker-taking-over'), true);
            }
            return scopes;
          }),
      );
    });

    test('a hold from before the book kept runs is found by the id its journaled decision names', async () => {
      await withKeel(open, async (keel) => {
        const left = await leaveRunMidCall(keel.store, { task: task.name, configHash: taskConfigHash(task), reserved, expiresInMs: 5 * 60 * 1000, bookRunId: false });
        const outcome = await keel.resume(left.runId);
        assert.ok(!('abandoned' in outcome) && outcome.status === 'ok');
        const { run, bills, stepCosts, account } = await books(keel, left.runId, left.scope);
        assert.equal(bills.length, 1);
        assert.deepEqual({ journal: run?.costMicros, spent: account.spent.micros, reserved: account.reserved.micros }, { journal: reserved.micros + stepCosts, spent: reserved.micros + stepCosts, reserved: 0 });
      });
    });

    test('keel stop of the dead process\'s run bills its call in flight and the hold no journal names: journal == book, nothing reserved', async () => {
      await withKeel(open, async (keel) => {
        // Two calls of the run left: step 1's decision journaled, an earlier hold's not (its batch lost).
        const left = await leaveRunMidCall(keel.store, { task: task.name, configHash: taskConfigHash(task), reserved, expiresInMs: 5 * 60 * 1000 });
        const lost = `lost-${left.reservationId}`;
        await keel.store.budgets?.reserveBudget({ reservationId: lost, limits: [{ key: left.scope, micros: null, tokens: null }], amount: { micros: 700, tokens: 70 }, expiresInMs: 5 * 60 * 1000, runId: left.runId });
        const stopped = await keel.stop(left.runId, { by: 'user:operator', reason: 'enough' });
        assert.equal(stopped.status, 'failed');
        const { run, bills, account, events } = await books(keel, left.runId, left.scope);
        assert.deepEqual(events.slice(-4).map((event) => event.type), ['step-end', 'reservation-bill', 'human-decision', 'run-end']);
        assert.deepEqual(bills.map((bill) => ({ id: bill.data.reservationId, micros: bill.data.cost.micros })), [{ id: lost, micros: 700 }]);
        assert.deepEqual({ journal: run?.costMicros, spent: account.spent.micros, reserved: account.reserved.micros }, { journal: reserved.micros + 700, spent: reserved.micros + 700, reserved: 0 });
      });
    });

    test('keel stop while the old holder, alive past its lease, settles its call in flight for less just before the stop settles it: the call\'s end bills what the book settled; journal == book', async () => {
      const actual = { micros: 1_234, tokens: 210 };
      const { race, hook } = oldHolderSettlingFirst(actual);
      await withKeel(
        open,
        async (keel) => {
          const left = await leaveRunMidCall(keel.store, { task: task.name, configHash: taskConfigHash(task), reserved, expiresInMs: 5 * 60 * 1000 });
          race.reservationId = left.reservationId;
          const stopped = await keel.stop(left.runId, { by: 'user:operator', reason: 'enough' });
          assert.equal(stopped.status, 'failed');
          assert.ok(race.settled, 'the old holder settled between the stop\'s read and its settle');
          const { run, bills, account, events } = await books(keel, left.runId, left.scope);
          assert.deepEqual(events.slice(-3).map((event) => event.type), ['step-end', 'human-decision', 'run-end']);
          const stepEnd = events.find((event) => event.type === 'step-end');
          assert.ok(stepEnd?.type === 'step-end' && !stepEnd.data.outcome.ok);
          assert.deepEqual(stepEnd.data.cost, { micros: actual.micros, priceVersion: 'budget-book' });
          assert.match(stepEnd.data.outcome.error.message, /billed what the budget book settled it at, 1234 micro-USD$/);
          assert.equal(bills.length, 0);
          assert.deepEqual({ journal: run?.costMicros, spent: account.spent.micros, reserved: account.reserved.micros }, { journal: actual.micros, spent: actual.micros, reserved: 0 });
        },
        hook,
      );
    });

    test('a run taken over twice bills each dead execution\'s reservation once: the second takeover finds the first\'s bill and the redone call\'s end', async () => {
      await withKeel(open, async (keel) => {
        const left = await leaveRunMidCall(keel.store, { task: task.name, configHash: taskConfigHash(task), reserved, expiresInMs: 5 * 60 * 1000 });
        const first = await keel.resume(left.runId);
        assert.ok(!('abandoned' in first) && first.status === 'ok');
        // The run ended; a stop of it, or any later takeover, finds nothing more to bill.
        const again = await keel.stop(left.runId, { by: 'user:operator', reason: 'after the end' });
        assert.equal(again.status, 'ok');
        const { run, bills, stepCosts, account } = await books(keel, left.runId, left.scope);
        assert.equal(bills.length, 1);
        assert.deepEqual({ journal: run?.costMicros, spent: account.spent.micros, reserved: account.reserved.micros }, { journal: reserved.micros + stepCosts, spent: reserved.micros + stepCosts, reserved: 0 });
      });
    });
  });
}
