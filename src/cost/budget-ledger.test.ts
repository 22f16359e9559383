import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BudgetLedger } from './budget-ledger.ts';
import { MemoryBudgetBook } from './memory-budget-book.ts';

test('the scopes of a run follow the clock: the next day is a new tenant-day budget, the run keeps its own', async () => {
  let now = new Date('2026-03-14T23:59:30Z');
  const ledger = new BudgetLedger(
    [
      { scope: 'tenant-day', micros: 1_000 },
      { scope: 'run', micros: 10_000 },
    ],
    { clock: () => now },
  );
  const context = { runId: 'run_1', task: 't', tenant: 'acme' };
  const first = await ledger.reserve(context, { micros: 600, tokens: 0 });
  assert.ok(first.ok);
  assert.deepEqual(first.reservation.keys, ['tenant:acme:day:2026-03-14', 'run:run_1']);
  await ledger.settle(first.reservation, { micros: 600, tokens: 0 });
  const refused = await ledger.reserve(context, { micros: 600, tokens: 0 });
  assert.equal(refused.ok, false);
  if (!refused.ok) assert.equal(refused.scope, 'tenant:acme:day:2026-03-14');
  now = new Date('2026-03-15T00:00:10Z');
  const next = await ledger.reserve(context, { micros: 600, tokens: 0 });
  assert.ok(next.ok);
  assert.deepEqual(next.reservation.keys, ['tenant:acme:day:2026-03-15', 'run:run_1']);
  assert.deepEqual(await ledger.spent('run:run_1'), { micros: 600, tokens: 0 });
});

test('the scopes remembered for a run are those of its whole spend context: another task, tenant or key gets its own', async () => {
  const now = new Date('2026-03-14T12:00:00Z');
  const ledger = new BudgetLedger(
    [
      { scope: 'task', micros: 10_000 },
      { scope: 'tenant', micros: 10_000 },
      { scope: 'key', window: 'day', micros: 10_000 },
    ],
    { clock: () => now },
  );
  const keysOf = async (context: { runId: string; task: string; tenant: string; key?: string }) => {
    const outcome = await ledger.reserve(context, { micros: 1, tokens: 0 });
    assert.ok(outcome.ok);
    return outcome.reservation.keys;
  };
  assert.deepEqual(await keysOf({ runId: 'run_1', task: 't', tenant: 'acme' }), ['task:t', 'tenant:acme']);
  assert.deepEqual(await keysOf({ runId: 'run_1', task: 't', tenant: 'globex' }), ['task:t', 'tenant:globex']);
  assert.deepEqual(await keysOf({ runId: 'run_1', task: 'u', tenant: 'globex' }), ['task:u', 'tenant:globex']);
  assert.deepEqual(await keysOf({ runId: 'run_1', task: 'u', tenant: 'globex', key: 'k1' }), ['task:u', 'tenant:globex', 'key:k1:day:2026-03-14']);
  assert.deepEqual(await keysOf({ runId: 'run_1', task: 'u', tenant: 'globex', key: '' }), ['task:u', 'tenant:globex', 'key::day:2026-03-14']);
  assert.deepEqual(await keysOf({ runId: 'run_1', task: 'u', tenant: 'globex' }), ['task:u', 'tenant:globex']);
});

test('a reservation is booked under the run of its spend context, so the book lists it by run', async () => {
  const book = new MemoryBudgetBook();
  const ledger = new BudgetLedger([{ scope: 'tenant', micros: 10_000 }], { book });
  const outcome = await ledger.reserve({ runId: 'run_listed', task: 't', tenant: 'acme' }, { micros: 600, tokens: 60 });
  assert.ok(outcome.ok);
  assert.deepEqual(await book.readRunReservations('run_listed'), [{ reservationId: outcome.reservation.id, state: 'held', amount: { micros: 600, tokens: 60 } }]);
  await ledger.settle(outcome.reservation, { micros: 250, tokens: 25 });
  assert.deepEqual(await book.readRunReservations('run_listed'), [{ reservationId: outcome.reservation.id, state: 'settled', actual: { micros: 250, tokens: 25 } }]);
});
