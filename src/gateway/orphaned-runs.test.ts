/**
 * Ending a gateway run whose process died, in process: the run's journal is written as a dead
 * `keel serve` leaves it (a model call started, its budget reserved in the store's book and
 * journaled, no step-end, the lease given back), then one pass of OrphanedRuns ends it. The process
 * itself being SIGKILLed is test/gateway-load/gateway-process-died.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Engine } from '../engine/index.ts';
import type { RunLeftMidCall } from '../engine/testing/index.ts';
import { leaveRunMidCall } from '../engine/testing/index.ts';
import { loadRun } from '../journal/index.ts';
import type { BudgetStoreV1 } from '../spec/index.ts';
import { SqliteStore } from '../store/index.ts';
import { gatewayTaskPrefix, OrphanedRuns } from './orphaned-runs.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-orphaned-'));
const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
after(async () => {
  await store.close();
  rmSync(folder, { recursive: true, force: true });
});
const engine = new Engine({ store, tasks: [], workerRegistry: false });
const reservationExpiryMs = 5 * 60 * 1000;
const reserved = { micros: 5_000, tokens: 600 };

function book(): BudgetStoreV1 {
  assert.ok(store.budgets !== undefined, 'the SQLite store keeps a budget book');
  return store.budgets;
}

/**
 * A gateway run as its process left it when it died mid-call; `journalId: false` journals the
 * decision as journals did before the reservation id was journaled.
 */
function orphan(journalId: boolean): Promise<RunLeftMidCall> {
  // A process that journaled no reservation id kept no run with its hold either.
  return leaveRunMidCall(store, { task: `${gatewayTaskPrefix}openai:gpt-4o-mini`, configHash: 'c', reserved, expiresInMs: reservationExpiryMs, journalReservationId: journalId, bookRunId: journalId });
}

async function account(scope: string, nowMs?: number): Promise<{ spent: number; reserved: number; spentTokens: number; reservedTokens: number }> {
  const read = await book().readBudget(scope, nowMs);
  return { spent: read.spent.micros, reserved: read.reserved.micros, spentTokens: read.spent.tokens, reservedTokens: read.reserved.tokens };
}

test('a dead process\'s call in flight is billed its reservation in the journal and settled at that amount in the book at once', async () => {
  const { runId, scope } = await orphan(true);
  assert.deepEqual(await account(scope), { spent: 0, reserved: reserved.micros, spentTokens: 0, reservedTokens: reserved.tokens });
  const outcomes = await new OrphanedRuns({ engine, priceVersion: 'test' }).end();
  assert.deepEqual(
    outcomes.filter((outcome) => outcome.runId === runId).map((outcome) => outcome.status),
    ['failed'],
  );
  const run = await store.getRun(runId);
  assert.equal(run?.costMicros, reserved.micros);
  const { events } = await loadRun(store, runId);
  const stepEnd = events.find((event) => event.type === 'step-end');
  assert.ok(stepEnd?.type === 'step-end');
  assert.equal(stepEnd.data.cost?.micros, reserved.micros);
  assert.deepEqual(await account(scope), { spent: reserved.micros, reserved: 0, spentTokens: reserved.tokens, reservedTokens: 0 }, 'spent at once, before any expiry');
  assert.deepEqual(await account(scope, Date.now() + reservationExpiryMs + 1_000), { spent: reserved.micros, reserved: 0, spentTokens: reserved.tokens, reservedTokens: 0 }, 'and not booked again when its expiry passes');
});

test('a journal from before the reservation id was journaled is ended the same, its reservation left to expire at the same amount', async () => {
  const { runId, scope } = await orphan(false);
  await new OrphanedRuns({ engine, priceVersion: 'test' }).end();
  assert.equal((await store.getRun(runId))?.status, 'failed');
  assert.equal((await store.getRun(runId))?.costMicros, reserved.micros);
  assert.deepEqual(await account(scope), { spent: 0, reserved: reserved.micros, spentTokens: 0, reservedTokens: reserved.tokens });
  assert.deepEqual(await account(scope, Date.now() + reservationExpiryMs + 1_000), { spent: reserved.micros, reserved: 0, spentTokens: reserved.tokens, reservedTokens: 0 });
});

test('a call its dead process had settled, its step-end not yet journaled, is billed what the book settled, not its reservation: journal == book', async () => {
  const { runId, scope, reservationId } = await orphan(true);
  // The process's stream ended and its reservation was settled from the usage; it died before its step's end reached the journal.
  const actual = { micros: 1_234, tokens: 210 };
  assert.equal((await book().settleBudget({ reservationId, actual })).length, 1);
  const [outcome] = (await new OrphanedRuns({ engine, priceVersion: 'test' }).end()).filter((ended) => ended.runId === runId);
  assert.match(outcome?.reason ?? '', /; its call in flight is billed what the budget book settled it at \(1234 micro-USD\)$/);
  const run = await store.getRun(runId);
  assert.equal(run?.status, 'failed');
  const { events } = await loadRun(store, runId);
  const stepEnd = events.find((event) => event.type === 'step-end');
  assert.ok(stepEnd?.type === 'step-end' && !stepEnd.data.outcome.ok);
  assert.deepEqual(stepEnd.data.cost, { micros: actual.micros, priceVersion: 'budget-book' });
  assert.match(stepEnd.data.outcome.error.message, /billed what the budget book settled it at, 1234 micro-USD$/);
  assert.deepEqual({ journal: run.costMicros, ...(await account(scope)) }, { journal: actual.micros, spent: actual.micros, reserved: 0, spentTokens: actual.tokens, reservedTokens: 0 });
  assert.deepEqual(await account(scope, Date.now() + reservationExpiryMs + 1_000), { spent: actual.micros, reserved: 0, spentTokens: actual.tokens, reservedTokens: 0 }, 'nothing more at expiry');
});

test('a hold whose budget decision never reached the journal (the process died before its batch was flushed) is billed by its run: journal == book, nothing reserved', async () => {
  const { runId, scope, reservationId } = await leaveRunMidCall(store, { task: `${gatewayTaskPrefix}openai:gpt-4o-mini`, configHash: 'c', reserved, expiresInMs: reservationExpiryMs, journalDecision: false });
  const [outcome] = (await new OrphanedRuns({ engine, priceVersion: 'test' }).end()).filter((ended) => ended.runId === runId);
  assert.match(outcome?.reason ?? '', /; reservations it left that no journaled call names are billed \(5000 micro-USD\)$/);
  const run = await store.getRun(runId);
  const { events } = await loadRun(store, runId);
  assert.deepEqual(events.slice(-3).map((event) => event.type), ['step-end', 'reservation-bill', 'run-end']);
  const bill = events.find((event) => event.type === 'reservation-bill');
  assert.ok(bill?.type === 'reservation-bill');
  assert.deepEqual({ id: bill.data.reservationId, from: bill.data.from, cost: bill.data.cost }, { id: reservationId, from: 'reservation', cost: { micros: reserved.micros, priceVersion: 'budget-book' } });
  assert.deepEqual({ journal: run?.costMicros, ...(await account(scope)) }, { journal: reserved.micros, spent: reserved.micros, reserved: 0, spentTokens: reserved.tokens, reservedTokens: 0 });
});
