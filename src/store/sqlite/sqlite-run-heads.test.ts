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
import type { JournalRecordV1, RunSummaryPatchV1 } from '../../spec/index.ts';
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

test('several appends to a run in one group: later totals override earlier ones, and no caller sees its summary changed', async () => {
  const { first, second, dispose } = twoHandles();
  try {
    const one = start(newRun.id);
    await first.createRun({ run: newRun, first: one });
    const two = next(one);
    const three = next(two);
    const four = next(three);
    const summaries: RunSummaryPatchV1[] = [{ stepCount: 1, inputTokens: 10 }, { stepCount: 2, outputTokens: 5 }, { costMicros: 7 }];
    const before = first.stats.transactions;
    await Promise.all([two, three, four].map((record, index) => first.append({ runId: newRun.id, records: [record], summary: summaries[index] as RunSummaryPatchV1 })));
    assert.equal(first.stats.transactions - before, 1, 'one group');
    assert.deepEqual(summaries, [{ stepCount: 1, inputTokens: 10 }, { stepCount: 2, outputTokens: 5 }, { costMicros: 7 }]);
    const run = await first.getRun(newRun.id);
    assert.deepEqual([run?.lastSeq, run?.stepCount, run?.inputTokens, run?.outputTokens, run?.costMicros], [4, 2, 10, 5, 7]);
    // The next group starts from the run's new head and keeps the totals it does not set.
    const five = next(four);
    const later: RunSummaryPatchV1[] = [{ stepCount: 3 }, { inputTokens: 11 }];
    await Promise.all([five, next(five)].map((record, index) => first.append({ runId: newRun.id, records: [record], summary: later[index] as RunSummaryPatchV1 })));
    assert.deepEqual(later, [{ stepCount: 3 }, { inputTokens: 11 }]);
    await first.close();
    const stored = await second.getRun(newRun.id);
    assert.deepEqual([stored?.lastSeq, stored?.stepCount, stored?.inputTokens, stored?.outputTokens, stored?.costMicros], [6, 3, 11, 5, 7]);
  } finally {
    await dispose();
  }
});

test('a group the database refuses is undone whole and written again write by write: only the culprit fails', async () => {
  const { first, dispose } = twoHandles();
  try {
    const other = { ...newRun, id: 'run_heads_other' };
    const otherStart = start(other.id);
    await first.createRun({ run: other, first: otherStart });
    const otherTwo = next(otherStart);
    await first.append({ runId: other.id, records: [otherTwo], summary: {} });
    // Created in the same group as an append of a second seq 1: validation reads the new run's head
    // before its run-start is inserted, so the journal's unique (run, seq) index is what refuses it.
    const one = start(newRun.id);
    const duplicate = toRecord(sealEvent({ runId: newRun.id, seq: 1, prevHash: genesisHash }, 'run-resume', { worker: 'w', attempt: 1, found: 'new' }));
    const otherThree = next(otherTwo);
    const [created, refused, appended] = await Promise.allSettled([
      first.createRun({ run: newRun, first: one }),
      first.append({ runId: newRun.id, records: [duplicate], summary: {} }),
      first.append({ runId: other.id, records: [otherThree], summary: { stepCount: 3 } }),
    ]);
    assert.equal(created.status, 'fulfilled');
    assert.equal(refused.status === 'rejected' ? (refused.reason as { code?: string }).code : refused.status, 'journal-conflict');
    // The other run's head, advanced by the group that was undone, was read again for its retry.
    assert.equal(appended.status === 'rejected' ? appended.reason : appended.status, 'fulfilled');
    assert.deepEqual((await first.readJournal(newRun.id)).map((record) => record.hash), [one.hash]);
    assert.deepEqual((await first.readJournal(other.id)).map((record) => record.hash), [otherStart.hash, otherTwo.hash, otherThree.hash]);
    await first.append({ runId: newRun.id, records: [next(one)], summary: {} });
    await first.append({ runId: other.id, records: [next(otherThree)], summary: {} });
    assert.equal((await first.getRun(other.id))?.lastSeq, 4);
  } finally {
    await dispose();
  }
});

test('a run created leased and appended to in the same group: the append goes on from the created head, in one transaction', async () => {
  const { first, second, dispose } = twoHandles();
  try {
    const one = start(newRun.id);
    const two = next(one);
    const before = first.stats.transactions;
    await Promise.all([
      first.createRun({ run: newRun, first: one, lease: { owner: 'worker-a', leaseMs: 60_000 }, deferSync: true }),
      first.append({ runId: newRun.id, records: [two], summary: { stepCount: 1 }, fence: { leaseOwner: 'worker-a' } }),
    ]);
    assert.equal(first.stats.transactions - before, 1, 'one group');
    assert.deepEqual((await second.readJournal(newRun.id)).map((record) => record.hash), [one.hash, two.hash]);
    // The remembered head carries the lease: a fenced append of another owner is refused, the creator's goes on.
    await assert.rejects(first.append({ runId: newRun.id, records: [next(two)], summary: {}, fence: { leaseOwner: 'worker-b' } }), { code: 'lease-lost' });
    await first.append({ runId: newRun.id, records: [next(two)], summary: {}, fence: { leaseOwner: 'worker-a' } });
    assert.equal((await second.getRun(newRun.id))?.lastSeq, 3);
  } finally {
    await dispose();
  }
});
