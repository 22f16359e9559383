/**
 * The SQLite store remembers the heads of the runs it appends to. Another connection's commit, or
 * this connection's own lease changes, must make it read them again: these cases would otherwise
 * accept a stale seq or a lost lease.
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
const newRun = { id: 'run_heads', task: 't', taskVersion: '1', principal: 'p', tenant: 't', status: 'running' } as const;

function twoHandles(): { first: SqliteStore; second: SqliteStore; dispose: () => Promise<void> } {
  const folder = mkdtempSync(join(tmpdir(), 'keel-heads-'));
  const path = join(folder, 'keel.db');
  const first = SqliteStore.open({ path, durability: 'normal' });
  const second = SqliteStore.open({ path, durability: 'normal' });
  return {
    first,
    second,
    dispose: async () => {
      await first.close();
      await second.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

test('an append another connection made is seen: the seq it used is refused here', async () => {
  const { first, second, dispose } = twoHandles();
  try {
    const one = start(newRun.id);
    await first.createRun({ run: newRun, first: one });
    const two = next(one);
    await first.append({ runId: newRun.id, records: [two], summary: {} });
    // The other handle appends seq 3; this one still remembers seq 2 as the head.
    const three = next(two);
    await second.append({ runId: newRun.id, records: [three], summary: {} });
    await assert.rejects(first.append({ runId: newRun.id, records: [next(two)], summary: {} }), { code: 'journal-conflict' });
    await first.append({ runId: newRun.id, records: [next(three)], summary: { stepCount: 4 } });
    assert.equal((await first.readJournal(newRun.id)).length, 4);
    assert.equal((await second.getRun(newRun.id))?.lastSeq, 4);
  } finally {
    await dispose();
  }
});

test('a lease broken by another connection, or by this one, fails the next fenced append', async () => {
  const { first, second, dispose } = twoHandles();
  try {
    const one = start(newRun.id);
    await first.createRun({ run: newRun, first: one, lease: { owner: 'worker-a', leaseMs: 60_000 } });
    const two = next(one);
    await first.append({ runId: newRun.id, records: [two], summary: {}, fence: { leaseOwner: 'worker-a' } });
    assert.equal(await second.breakLease(newRun.id, 'worker-a'), true);
    await assert.rejects(first.append({ runId: newRun.id, records: [next(two)], summary: {}, fence: { leaseOwner: 'worker-a' } }), { code: 'lease-lost' });
    assert.ok(await first.claimRun(newRun.id, { owner: 'worker-a', leaseMs: 60_000, statuses: ['running'] }));
    const three = next(two);
    await first.append({ runId: newRun.id, records: [three], summary: {}, fence: { leaseOwner: 'worker-a' } });
    assert.equal(await first.breakLease(newRun.id, 'worker-a'), true);
    await assert.rejects(first.append({ runId: newRun.id, records: [next(three)], summary: {}, fence: { leaseOwner: 'worker-a' } }), { code: 'lease-lost' });
  } finally {
    await dispose();
  }
});
