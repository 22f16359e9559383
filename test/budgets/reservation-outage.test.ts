/**
 * A store outage during a budget reservation (a database restart mid-run) is not the run's
 * failure: the execution gives the run up without ending it, `db-unavailable`, and the run resumes
 * from its journal once the store answers, to its end. Before, the run ended `failed` when the
 * store was back in time to take the run-end.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createKeel, KeelError } from 'keel';
import type { StoreV1 } from 'keel';
import { withReserveHook } from './reserve-hook.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { budgetTenant, spendAgent, spendConfig } from './spend-agent.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-reservation-outage-'));
after(() => rmSync(folder, { recursive: true, force: true }));

/** The store, whose budget book refuses its next `refusals` reservations as a database that went away does. */
function outageOnReserve(store: SqliteStore, refusals: { left: number }): StoreV1 {
  return withReserveHook(store, (_request, next) => {
    if (refusals.left === 0) return next();
    refusals.left -= 1;
    return Promise.reject(new KeelError('db-unavailable', `the database at ${store.location} is unavailable (connection terminated)`));
  });
}

test('a reservation refused by a store outage leaves the run running, and it resumes to ok', async () => {
  const store = SqliteStore.open({ path: join(folder, 'keel.db') });
  const refusals = { left: 1 };
  const keel = await createKeel({ store: outageOnReserve(store, refusals), config: spendConfig, agents: [spendAgent] });
  try {
    await assert.rejects(keel.run('spend-agent', { message: 'note 1' }, { principal: 'ada', tenant: budgetTenant, runId: 'run_outage' }), (error: unknown) => {
      assert.ok(error instanceof KeelError);
      assert.equal(error.code, 'db-unavailable');
      assert.match(error.message, /run run_outage was not finished here: .*unavailable/);
      return true;
    });
    assert.equal(refusals.left, 0);
    const left = await store.getRun('run_outage');
    assert.equal(left?.status, 'running', 'not ended over an outage');
    assert.equal((await store.readJournal('run_outage')).some((record) => record.type === 'run-end'), false);
    // The store answers again; the worker that gave the run up hands its lease back, and it resumes.
    await store.releaseLease('run_outage', keel.engine.workerId);
    const outcome = await keel.resume('run_outage');
    assert.ok(!('abandoned' in outcome), JSON.stringify(outcome));
    assert.equal(outcome.status, 'ok', outcome.reason);
    const account = await store.budgets.readBudget(`tenant-day:${budgetTenant}:${new Date().toISOString().slice(0, 10)}`);
    assert.equal(account.reserved.micros, 0, 'no reservation left open');
  } finally {
    await keel.close();
    await store.close();
  }
});
