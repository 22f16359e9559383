/**
 * A stop that ends a run with a model call in flight bills that call what the budget book booked
 * for it, before the run's end. The journal is written as a process that died mid-call leaves it
 * (the call started, its reservation held in the store's book and journaled, no step-end, the lease
 * given back); the run then has a stop requested and is resumed, so the stop ends it at once. The
 * stop of a live call (a stream cut, a call that has not answered) is src/gateway/stop-mid-call.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadRun } from '../journal/index.ts';
import { SqliteStore } from '../store/index.ts';
import { Engine } from './engine.ts';
import { defineTask } from './task.ts';
import { taskConfigHash } from './task-config-hash.ts';
import type { RunLeftMidCall } from './testing/index.ts';
import { leaveRunMidCall } from './testing/index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-stop-in-flight-'));
const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
after(async () => {
  await store.close();
  rmSync(folder, { recursive: true, force: true });
});
const task = defineTask({ name: 'stoppable', version: '1', run: () => Promise.resolve('never reached: the stop ends the run first') });
const engine = new Engine({ store, tasks: [task], workerRegistry: false });
const reserved = { micros: 5_000, tokens: 600 };

function book() {
  assert.ok(store.budgets !== undefined, 'the SQLite store keeps a budget book');
  return store.budgets;
}

/** A run whose process died with its model call in flight and its reservation held; then a stop is requested. */
async function stoppedMidCall(): Promise<RunLeftMidCall> {
  const left = await leaveRunMidCall(store, { task: task.name, configHash: taskConfigHash(task), reserved, expiresInMs: 5 * 60 * 1000 });
  await store.requestStop(left.runId, { by: 'user:operator', reason: 'enough' });
  return left;
}

async function ended(runId: string, scope: string) {
  const run = await store.getRun(runId);
  const { events } = await loadRun(store, runId);
  const account = await book().readBudget(scope);
  const stepEnd = events.find((event) => event.type === 'step-end');
  assert.ok(stepEnd?.type === 'step-end', `the call in flight has a step-end: ${events.map((event) => event.type).join(', ')}`);
  assert.deepEqual(events.slice(-3).map((event) => event.type), ['step-end', 'human-decision', 'run-end']);
  assert.equal(run?.status, 'failed');
  assert.match(run.reason ?? '', /^stopped by user:operator: enough$/);
  return { run, stepEnd: stepEnd.data, account };
}

test('a call whose reservation the book still holds is billed its reservation, and the book settles it at that amount at once', async () => {
  const { runId, scope } = await stoppedMidCall();
  const outcome = await engine.resume(runId);
  assert.ok(!('abandoned' in outcome) && outcome.status === 'failed');
  const { run, stepEnd, account } = await ended(runId, scope);
  assert.deepEqual(stepEnd.cost, { micros: reserved.micros, priceVersion: 'budget-book' });
  assert.ok(!stepEnd.outcome.ok && stepEnd.outcome.error.code === 'run-stopped');
  assert.deepEqual({ journal: run.costMicros, spent: account.spent.micros, reserved: account.reserved.micros }, { journal: reserved.micros, spent: reserved.micros, reserved: 0 });
  assert.deepEqual({ spent: account.spent.tokens, reserved: account.reserved.tokens }, { spent: reserved.tokens, reserved: 0 });
});

test('a call the book already settled (its process settled it and died before journaling its end) is billed what the book settled', async () => {
  const { runId, scope, reservationId } = await stoppedMidCall();
  await book().settleBudget({ reservationId, actual: { micros: 1_234, tokens: 210 } });
  const outcome = await engine.resume(runId);
  assert.ok(!('abandoned' in outcome) && outcome.status === 'failed');
  const { run, stepEnd, account } = await ended(runId, scope);
  assert.equal(stepEnd.cost?.micros, 1_234);
  assert.deepEqual({ journal: run.costMicros, spent: account.spent.micros, reserved: account.reserved.micros }, { journal: 1_234, spent: 1_234, reserved: 0 });
});
