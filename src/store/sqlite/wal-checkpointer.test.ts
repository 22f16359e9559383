/**
 * A busy store checkpoints its WAL on a thread of its own (wal-checkpointer.ts), not in a commit on
 * the event loop: the pages reach the database file while appends go on, and closing the store
 * stops the thread and leaves a database that opens and reads whole.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as pause } from 'node:timers/promises';
import { genesisHash, sealEvent, toRecord, verifyChain } from '../../journal/index.ts';
import type { JournalRecordV1 } from '../../spec/index.ts';
import { SqliteStore } from './index.ts';

test('the checkpoint thread copies the WAL into the database file while appends go on', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-checkpoint-'));
  const path = join(folder, 'keel.db');
  const store = SqliteStore.open({ path, durability: 'normal', checkpointAfterCommits: 0 });
  try {
    let last: JournalRecordV1 = toRecord(sealEvent({ runId: 'run_wal', seq: 1, prevHash: genesisHash }, 'run-start', { task: 't', taskVersion: '1', input: null, principal: 'p', tenant: 't', configHash: genesisHash, config: null }));
    await store.createRun({ run: { id: 'run_wal', task: 't', taskVersion: '1', principal: 'p', tenant: 't', status: 'running' }, first: last });
    const sizeBefore = statSync(path).size;
    // Appends until the thread has copied pages at least once; bounded, so a thread that never
    // runs fails the test instead of hanging it.
    for (let round = 0; round < 400 && store.checkpoints === 0; round += 1) {
      for (let index = 0; index < 20; index += 1) {
        last = toRecord(sealEvent({ runId: 'run_wal', seq: last.seq + 1, prevHash: last.hash }, 'run-resume', { worker: 'w'.repeat(400), attempt: 1, found: 'new' }));
        await store.append({ runId: 'run_wal', records: [last], summary: { stepCount: last.seq } });
      }
      await pause(25);
    }
    assert.ok(store.checkpoints > 0, 'the thread checkpointed');
    assert.ok(statSync(path).size > sizeBefore, 'pages reached the database file');
  } finally {
    await store.close();
  }
  const reader = SqliteStore.open({ path, readOnly: true });
  try {
    const records = await reader.readJournal('run_wal');
    assert.ok(records.length > 20);
    assert.equal(verifyChain(records).ok, true);
  } finally {
    await reader.close();
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a checkpoint threshold that is not a whole number is config-invalid', () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-checkpoint-'));
  try {
    assert.throws(() => SqliteStore.open({ path: join(folder, 'keel.db'), checkpointAfterCommits: -1 }), { code: 'config-invalid' });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
