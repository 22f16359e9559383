/**
 * Appends that leave a run's status as it is write its row's totals behind (sqlite-store.ts,
 * #progress). What must hold: a run's head (last seq, hash, time) is never stale for any reader,
 * the writing process sees its own totals at once, a status change is written at once with every
 * deferred total, a deferred total never overwrites a later process's, and close() writes what is left.
 * (Its time lags with the totals.) A lag of an hour makes "deferred" certain in these tests; 0 makes "written at once" certain.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { genesisHash, sealEvent, toRecord } from '../../journal/index.ts';
import type { JournalRecordV1 } from '../../spec/index.ts';
import { SqliteStore } from './index.ts';

const hour = 3_600_000;
const start = (runId: string) => toRecord(sealEvent({ runId, seq: 1, prevHash: genesisHash }, 'run-start', { task: 't', taskVersion: '1', input: null, principal: 'p', tenant: 't', configHash: genesisHash, config: null }));
const next = (previous: JournalRecordV1) => toRecord(sealEvent({ runId: previous.runId, seq: previous.seq + 1, prevHash: previous.hash }, 'run-resume', { worker: 'w', attempt: 1, found: 'new' }));
const newRun = (id: string) => ({ id, task: 't', taskVersion: '1', principal: 'p', tenant: 't', status: 'running' }) as const;

function folder(): { path: string; dispose: () => void } {
  const directory = mkdtempSync(join(tmpdir(), 'keel-progress-'));
  return { path: join(directory, 'keel.db'), dispose: () => rmSync(directory, { recursive: true, force: true }) };
}

test('another connection reads the exact head while the totals lag; the writer sees its own totals; close writes them', async () => {
  const { path, dispose } = folder();
  const writer = SqliteStore.open({ path, durability: 'normal', progressLagMs: hour });
  const reader = SqliteStore.open({ path, durability: 'normal', readOnly: true });
  try {
    let last = start('run_lag');
    await writer.createRun({ run: newRun('run_lag'), first: last });
    for (let step = 1; step <= 3; step += 1) {
      last = next(last);
      await writer.append({ runId: 'run_lag', records: [last], summary: { stepCount: step, costMicros: step * 100 } });
    }
    const seen = await reader.getRun('run_lag');
    assert.equal(seen?.lastSeq, 4);
    assert.equal(seen?.lastHash, last.hash);
    assert.equal(seen?.stepCount, 0, 'the totals were deferred (an hour of lag)');
    const own = await writer.getRun('run_lag');
    assert.deepEqual([own?.stepCount, own?.costMicros, own?.lastSeq, own?.updatedAt], [3, 300, 4, last.time]);
    const [listed] = await writer.listRuns();
    assert.deepEqual([listed?.stepCount, listed?.lastSeq], [3, 4]);
    // The span exporter's tail and the audit log read the head from the journal too.
    assert.equal((await reader.telemetryCursors.listChangedRuns({ limit: 10 }))[0]?.lastSeq, 4);
    assert.deepEqual(await reader.auditLog.listUnanchoredRuns(), [{ runId: 'run_lag', seq: 4, hash: last.hash }]);
    await writer.close();
    const closed = await reader.getRun('run_lag');
    assert.deepEqual([closed?.stepCount, closed?.costMicros, closed?.lastSeq, closed?.updatedAt], [3, 300, 4, last.time]);
  } finally {
    await writer.close();
    await reader.close();
    dispose();
  }
});

test('a status change is written at once, with the totals deferred before it', async () => {
  const { path, dispose } = folder();
  const writer = SqliteStore.open({ path, durability: 'normal', progressLagMs: hour });
  const reader = SqliteStore.open({ path, durability: 'normal', readOnly: true });
  try {
    let last = start('run_status');
    await writer.createRun({ run: newRun('run_status'), first: last });
    last = next(last);
    await writer.append({ runId: 'run_status', records: [last], summary: { stepCount: 1, inputTokens: 40, outputTokens: 7, costMicros: 250 } });
    last = next(last);
    await writer.append({ runId: 'run_status', records: [last], summary: { status: 'ok', reason: null, stepCount: 2 } });
    const seen = await reader.getRun('run_status');
    assert.deepEqual([seen?.status, seen?.stepCount, seen?.inputTokens, seen?.outputTokens, seen?.costMicros, seen?.lastSeq], ['ok', 2, 40, 7, 250, 3]);
  } finally {
    await writer.close();
    await reader.close();
    dispose();
  }
});

test('a deferred total never overwrites one another connection wrote for a later event', async () => {
  const { path, dispose } = folder();
  const slow = SqliteStore.open({ path, durability: 'normal', progressLagMs: hour });
  const prompt = SqliteStore.open({ path, durability: 'normal', progressLagMs: 0 });
  try {
    let last = start('run_race');
    await slow.createRun({ run: newRun('run_race'), first: last });
    last = next(last);
    await slow.append({ runId: 'run_race', records: [last], summary: { stepCount: 1, costMicros: 100 } });
    // The run moves on in another process (a worker that took it over), which writes its totals at once.
    last = next(last);
    await prompt.append({ runId: 'run_race', records: [last], summary: { stepCount: 2, costMicros: 900 } });
    await slow.close();
    const seen = await prompt.getRun('run_race');
    assert.deepEqual([seen?.stepCount, seen?.costMicros, seen?.lastSeq], [2, 900, 3]);
  } finally {
    await slow.close();
    await prompt.close();
    dispose();
  }
});

test('a due group whose only append to a run is refused still writes the totals deferred before it, never over later ones', async () => {
  const { path, dispose } = folder();
  // The writer's clock moves only when the test moves it: a group is due once it reads an hour later.
  let clock = 0;
  const writer = SqliteStore.open({ path, durability: 'normal', progressLagMs: hour, now: () => clock });
  const other = SqliteStore.open({ path, durability: 'normal', progressLagMs: 0 });
  const lease = { owner: 'worker-a', leaseMs: 60_000 };
  const totals = async (store: SqliteStore, runId: string) => {
    const run = await store.getRun(runId);
    return [run?.stepCount, run?.costMicros, run?.lastSeq];
  };
  try {
    // run_retry's next append repeats a seq; run_lost's lease is broken by another process;
    // run_taken is moved on by another process, which writes later totals at once.
    const retry = [start('run_retry')];
    const lost = [start('run_lost')];
    const taken = [start('run_taken')];
    await writer.createRun({ run: newRun('run_retry'), first: retry[0] as JournalRecordV1 });
    await writer.createRun({ run: newRun('run_lost'), first: lost[0] as JournalRecordV1, lease });
    await writer.createRun({ run: newRun('run_taken'), first: taken[0] as JournalRecordV1 });
    for (const records of [retry, lost, taken]) records.push(next(records.at(-1) as JournalRecordV1));
    await Promise.all([
      writer.append({ runId: 'run_retry', records: [retry[1] as JournalRecordV1], summary: { stepCount: 1, costMicros: 100 } }),
      writer.append({ runId: 'run_lost', records: [lost[1] as JournalRecordV1], summary: { stepCount: 2, costMicros: 200 }, fence: { leaseOwner: 'worker-a' } }),
      writer.append({ runId: 'run_taken', records: [taken[1] as JournalRecordV1], summary: { stepCount: 3, costMicros: 300 } }),
    ]);
    assert.deepEqual(await totals(other, 'run_retry'), [0, 0, 2], 'the totals were deferred');
    assert.equal(await other.breakLease('run_lost', 'worker-a'), true);
    taken.push(next(taken[1] as JournalRecordV1));
    await other.append({ runId: 'run_taken', records: [taken[2] as JournalRecordV1], summary: { stepCount: 4, costMicros: 900 } });
    assert.deepEqual(await totals(writer, 'run_taken'), [4, 900, 3], 'the writer shows no deferred totals over later ones');

    clock = hour;
    const before = writer.stats.transactions;
    const refused = await Promise.allSettled([
      writer.append({ runId: 'run_retry', records: [retry[1] as JournalRecordV1], summary: { stepCount: 1, costMicros: 100 } }),
      writer.append({ runId: 'run_lost', records: [next(lost[1] as JournalRecordV1)], summary: { stepCount: 5 }, fence: { leaseOwner: 'worker-a' } }),
      writer.append({ runId: 'run_taken', records: [taken[2] as JournalRecordV1], summary: { stepCount: 4 } }),
    ]);
    assert.equal(writer.stats.transactions - before, 1, 'one group, due');
    assert.deepEqual(
      refused.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as { code?: string }).code : outcome.status)),
      ['journal-conflict', 'lease-lost', 'journal-conflict'],
    );
    // Read before close(), which would write anything still deferred.
    assert.deepEqual(await totals(other, 'run_retry'), [1, 100, 2]);
    assert.deepEqual(await totals(other, 'run_lost'), [2, 200, 2]);
    assert.deepEqual(await totals(other, 'run_taken'), [4, 900, 3]);
    assert.deepEqual(await totals(writer, 'run_retry'), [1, 100, 2]);
    assert.deepEqual(await totals(writer, 'run_taken'), [4, 900, 3]);
  } finally {
    await writer.close();
    await other.close();
    dispose();
  }
});

/** The integer key each run's row holds: SQLite's rowid, which a new row may take again once the highest is deleted. */
function rowKeys(path: string): Map<string, number> {
  const database = new DatabaseSync(path, { readOnly: true });
  try {
    return new Map(database.prepare('SELECT id, key FROM runs').all().map((row) => [String(row.id), Number(row.key)]));
  } finally {
    database.close();
  }
}

/**
 * Run A (the highest key) has totals deferred in `slow`; `other` ends it, deletes it (retention)
 * and creates run B, which takes A's key. Returns B's first record.
 */
async function reuseKey(path: string, slow: SqliteStore, other: SqliteStore): Promise<JournalRecordV1> {
  const older = start('run_older');
  await slow.createRun({ run: newRun('run_older'), first: older });
  let last = start('run_a');
  await slow.createRun({ run: newRun('run_a'), first: last });
  for (let step = 1; step <= 3; step += 1) {
    last = next(last);
    await slow.append({ runId: 'run_a', records: [last], summary: { stepCount: step, inputTokens: step * 40, outputTokens: step * 7, costMicros: step * 100 } });
  }
  last = next(last);
  await other.append({ runId: 'run_a', records: [last], summary: { status: 'ok', reason: null } });
  assert.deepEqual(await other.retention.deleteEndedRuns([{ runId: 'run_a', lastSeq: last.seq }]), ['run_a']);
  const first = start('run_b');
  await other.createRun({ run: newRun('run_b'), first });
  const keys = rowKeys(path);
  assert.ok(keys.get('run_b') !== undefined && keys.get('run_b') === Math.max(...keys.values()), 'B is the highest key');
  assert.equal(keys.get('run_b'), 2, "B took A's key (run_older holds 1)");
  return first;
}

test("a deleted run's deferred totals never land on a new run that took its key", async () => {
  const { path, dispose } = folder();
  const slow = SqliteStore.open({ path, durability: 'normal', progressLagMs: hour });
  const other = SqliteStore.open({ path, durability: 'normal', progressLagMs: 0 });
  try {
    const first = await reuseKey(path, slow, other);
    const own = await slow.getRun('run_b');
    assert.deepEqual([own?.stepCount, own?.costMicros, own?.updatedAt], [0, 0, first.time], "the deferring process shows none of A's totals on B");
    // close() writes what `slow` still defers: A's totals, for a run that is gone.
    await slow.close();
    const seen = await other.getRun('run_b');
    assert.deepEqual([seen?.stepCount, seen?.inputTokens, seen?.outputTokens, seen?.costMicros, seen?.lastSeq, seen?.lastHash, seen?.updatedAt], [0, 0, 0, 0, 1, first.hash, first.time]);
    const database = new DatabaseSync(path, { readOnly: true });
    try {
      const row = database.prepare('SELECT last_seq, last_hash FROM runs WHERE id = ?').get('run_b');
      assert.deepEqual([row?.last_seq, row?.last_hash], [1, first.hash], "B's row keeps its own head, so its own deferred totals are not held back");
    } finally {
      database.close();
    }
  } finally {
    await slow.close();
    await other.close();
    dispose();
  }
});

test("a process that deferred a deleted run's totals appends to the new run on its key with that run's totals only", async () => {
  const { path, dispose } = folder();
  const slow = SqliteStore.open({ path, durability: 'normal', progressLagMs: hour });
  const other = SqliteStore.open({ path, durability: 'normal', progressLagMs: 0 });
  try {
    const first = await reuseKey(path, slow, other);
    const second = next(first);
    await slow.append({ runId: 'run_b', records: [second], summary: { stepCount: 1 } });
    const own = await slow.getRun('run_b');
    assert.deepEqual([own?.stepCount, own?.inputTokens, own?.costMicros, own?.lastSeq], [1, 0, 0, 2]);
    await slow.close();
    const seen = await other.getRun('run_b');
    assert.deepEqual([seen?.stepCount, seen?.inputTokens, seen?.outputTokens, seen?.costMicros, seen?.lastSeq, seen?.updatedAt], [1, 0, 0, 0, 2, second.time]);
  } finally {
    await slow.close();
    await other.close();
    dispose();
  }
});

test("a remembered head of a deleted run never appends to the new run that took its key", async () => {
  const { path, dispose } = folder();
  const slow = SqliteStore.open({ path, durability: 'normal', progressLagMs: hour });
  const other = SqliteStore.open({ path, durability: 'normal', progressLagMs: 0 });
  try {
    const first = await reuseKey(path, slow, other);
    // `slow` last appended to A as seq 4 and remembers its head: a fifth record would follow it.
    const journal = await other.readJournal('run_a');
    assert.deepEqual(journal, []);
    const stray = toRecord(sealEvent({ runId: 'run_a', seq: 5, prevHash: genesisHash }, 'run-resume', { worker: 'w', attempt: 1, found: 'new' }));
    await assert.rejects(slow.append({ runId: 'run_a', records: [stray], summary: { stepCount: 9 } }), { code: 'run-not-found' });
    assert.deepEqual((await other.readJournal('run_b')).map((record) => record.hash), [first.hash]);
  } finally {
    await slow.close();
    await other.close();
    dispose();
  }
});

test('the lag is checked: a negative or fractional one is config-invalid', () => {
  const { path, dispose } = folder();
  try {
    assert.throws(() => SqliteStore.open({ path, progressLagMs: -1 }), { code: 'config-invalid' });
    assert.throws(() => SqliteStore.open({ path, progressLagMs: 1.5 }), { code: 'config-invalid' });
  } finally {
    dispose();
  }
});
