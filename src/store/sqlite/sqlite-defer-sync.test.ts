/**
 * A run created with `deferSync` is answered on commit and made durable by the next write that
 * waits for a sync; every other write still waits for one. Counted by the store's fdatasync calls,
 * which only a waiting write starts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
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
