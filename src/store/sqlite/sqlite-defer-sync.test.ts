/**
 * A run created with `deferSync`, an append with `deferSync` and a budget settlement are answered
 * on commit and made durable by the next write that waits for a sync; every other write still waits
 * for one. Counted by the store's fdatasync calls, which only a waiting write starts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defineTask, Engine } from '../../engine/index.ts';
import { genesisHash, sealEvent, toRecord } from '../../journal/index.ts';
import type { JournalRecordV1 } from '../../spec/index.ts';
import { SqliteStore } from './index.ts';

const start = (runId: string) => toRecord(sealEvent({ runId, seq: 1, prevHash: genesisHash }, 'run-start', { task: 't', taskVersion: '1', input: null, principal: 'p', tenant: 't', configHash: genesisHash, config: null }));
const next = (previous: JournalRecordV1) => toRecord(sealEvent({ runId: previous.runId, seq: previous.seq + 1, prevHash: previous.hash }, 'run-resume', { worker: 'w', attempt: 1, found: 'new' }));
const run = (id: string) => ({ id, task: 't', taskVersion: '1', principal: 'p', tenant: 't', status: 'running' }) as const;
const lease = { owner: 'worker-a', leaseMs: 60_000 };

test('a deferred creation waits for no sync; the next append syncs it with itself; a plain creation still waits', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-defer-sync-'));
  const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'full' });
  try {
    const before = store.syncs;
    const first = start('run_deferred');
    await store.createRun({ run: run('run_deferred'), first, lease, deferSync: true });
    assert.equal(store.syncs, before, 'the deferred creation resolved on its commit');
    assert.equal((await store.getRun('run_deferred'))?.lastSeq, 1, 'and is committed: readable at once');
    await store.append({ runId: 'run_deferred', records: [next(first)], summary: {}, fence: { leaseOwner: 'worker-a' } });
    assert.equal(store.syncs, before + 1, 'the append waited for one sync, which covers the creation before it');
    await store.createRun({ run: run('run_plain'), first: start('run_plain'), lease });
    assert.equal(store.syncs, before + 2, 'a creation without deferSync waits for its own sync');
    // In one group: the deferred creation resolves on commit, the plain one after the group's sync.
    const order: string[] = [];
    await Promise.all([
      store.createRun({ run: run('run_grouped_deferred'), first: start('run_grouped_deferred'), lease, deferSync: true }).then(() => order.push(`deferred after ${store.syncs - before} syncs`)),
      store.createRun({ run: run('run_grouped_plain'), first: start('run_grouped_plain'), lease }).then(() => order.push(`plain after ${store.syncs - before} syncs`)),
    ]);
    assert.deepEqual(order, ['deferred after 2 syncs', 'plain after 3 syncs']);
    // A refused deferred creation is refused at once, not resolved.
    await assert.rejects(store.createRun({ run: run('run_plain'), first: start('run_plain'), lease, deferSync: true }), /run-exists|exists/);
  } finally {
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a deferred append (the resume of a fresh run) waits for no sync; the reservation after it syncs both', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-defer-append-'));
  const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'full' });
  try {
    const first = start('run_fresh');
    await store.createRun({ run: run('run_fresh'), first, lease, deferSync: true });
    const before = store.syncs;
    await store.append({ runId: 'run_fresh', records: [next(first)], summary: {}, fence: { leaseOwner: 'worker-a' }, deferSync: true });
    assert.equal(store.syncs, before, 'the deferred append resolved on its commit');
    assert.equal((await store.getRun('run_fresh'))?.lastSeq, 2, 'and is committed: readable at once');
    const limits = [{ key: 'tenant:acme', micros: 1_000, tokens: null }];
    assert.deepEqual(await store.budgets.reserveBudget({ reservationId: 'r0', limits, amount: { micros: 100, tokens: 10 }, expiresInMs: 60_000 }), { ok: true });
    assert.equal(store.syncs, before + 1, 'the reservation waited for one sync, which covers the run before it');
    // A refused deferred append is refused, not resolved.
    await assert.rejects(store.append({ runId: 'run_fresh', records: [next(first)], summary: {}, deferSync: true }), /journal-conflict|expected seq/);
  } finally {
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a reservation waits for its sync; its settlement resolves on commit, and the next durable write syncs it', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-settle-sync-'));
  const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'full' });
  try {
    const limits = [{ key: 'tenant:acme', micros: 1_000, tokens: null }];
    const before = store.syncs;
    assert.deepEqual(await store.budgets.reserveBudget({ reservationId: 'r1', limits, amount: { micros: 100, tokens: 10 }, expiresInMs: 60_000 }), { ok: true });
    assert.equal(store.syncs, before + 1, 'the reservation is on disk before the call it allows');
    const settled = await store.budgets.settleBudget({ reservationId: 'r1', actual: { micros: 40, tokens: 4 } });
    assert.equal(store.syncs, before + 1, 'the settlement resolved on its commit');
    assert.deepEqual(settled, [{ key: 'tenant:acme', before: { micros: 0, tokens: 0 }, after: { micros: 40, tokens: 4 } }]);
    assert.equal((await store.budgets.readBudget('tenant:acme')).spent.micros, 40, 'and is committed: the book reads it at once');
    await store.createRun({ run: run('run_after_settle'), first: start('run_after_settle'), lease });
    assert.equal(store.syncs, before + 2, 'the next durable write waited for one sync, which covers the settlement before it');
  } finally {
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a run Engine.start opens and ends costs one sync (its end); a run a worker claims syncs its resume too', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-engine-syncs-'));
  const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'full' });
  const engine = new Engine({ store, tasks: [defineTask({ name: 'quick', version: '1', run: async () => 'done' })], workerRegistry: false });
  try {
    await engine.start('quick', null, { principal: 'p', tenant: 't' });
    const before = store.syncs;
    const outcome = await engine.start('quick', null, { principal: 'p', tenant: 't' });
    assert.equal(outcome.status, 'ok');
    assert.equal(store.syncs - before, 1, 'creation and resume ride on the run-end sync');
    const events = await store.readJournal(outcome.runId);
    assert.deepEqual(events.map((event) => event.type), ['run-start', 'run-resume', 'run-end']);
    await engine.enqueue('quick', null, { principal: 'p', tenant: 't' });
    const queued = store.syncs;
    await engine.resumeAll();
    assert.equal(store.syncs - queued, 2, 'a claimed run commits its resume durably, then its end');
  } finally {
    engine.shutdown();
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  }
});
