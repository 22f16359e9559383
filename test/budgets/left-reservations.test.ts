/**
 * Whoever takes over a run whose process died bills every reservation of the run its journal does
 * not bill, before going on, so the run's journaled cost equals its scopes' spend with nothing left
 * reserved: on SQLite and PostgreSQL, for a resumed execution that redoes the model call, and for
 * a stop of the dead process's run. The run is written as the process left it (leaveRunMidCall):
 * its model call started, its reservation held in the store's book; its budget decision journaled,
 * or (killed before its pipelined batch was flushed) not, in which case only the book, which keeps
 * each reservation's run, knows of the hold.
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
import type { StoreV1 } from '../../src/spec/index.ts';
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

async function withKeel(open: () => Promise<Opened>, work: (keel: Keel) => Promise<void>): Promise<void> {
  const { store, dispose } = await open();
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

    test('resumed after dying mid-call with its budget decision journaled: the held reservation is billed in full, then settled; journal == book, nothing reserved', async () => {
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
