import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeelError } from '../errors/index.ts';
import { genesisHash, JournalWriter, sealEvent, toRecord } from '../journal/index.ts';
import { SqliteStore } from '../store/sqlite/index.ts';
import { storeOutage } from './store-outage.ts';

/** A run with its start journaled, and a writer to build what follows. */
async function openRun(store: SqliteStore, runId: string): Promise<JournalWriter> {
  const first = sealEvent({ runId, seq: 1, prevHash: genesisHash }, 'run-start', { task: 'refund', taskVersion: '1', input: null, principal: 'p', tenant: 't', configHash: 'c', config: null });
  await store.createRun({ run: { id: runId, task: 'refund', taskVersion: '1', principal: 'p', tenant: 't', status: 'running' }, first: toRecord(first) });
  return new JournalWriter({ store, runId, lastSeq: 1, lastHash: first.hash });
}

const isEffectEnd = (record: { type: string; data: unknown }) => record.type === 'step-end' && (record.data as { name?: unknown }).name === 'issue_refund';

test('an append that carries the effect\'s end with what followed: the effect\'s end lands, the rest is refused, and so is every call after it', async () => {
  const store = SqliteStore.open({ path: ':memory:' });
  try {
    const outage = storeOutage(store);
    const writer = await openRun(store, 'run_pipelined');
    outage.arm('run_pipelined', (record) => isEffectEnd(record));
    const start = writer.build('step-start', { step: 1, name: 'issue_refund', kind: 'tool-call', idempotent: true, attempt: 1, epoch: 0 });
    await outage.store.append({ runId: 'run_pipelined', records: [toRecord(start)], summary: {} });
    assert.equal(outage.on, false, 'the effect has not ended yet');
    // What a pipelining writer sends at once on a loaded machine: the effect's end and the run's.
    const end = writer.build('step-end', { step: 1, name: 'issue_refund', kind: 'tool-call', epoch: 0, durationMs: 3, outcome: { ok: true, value: 'paid' } });
    const runEnd = writer.build('run-end', { status: 'ok' });
    await assert.rejects(
      outage.store.append({ runId: 'run_pipelined', records: [toRecord(end), toRecord(runEnd)], summary: { status: 'ok' } }),
      (error: unknown) => error instanceof KeelError && error.code === 'db-unavailable',
    );
    assert.equal(outage.on, true);
    const journal = await store.readJournal('run_pipelined');
    assert.deepEqual(journal.map((record) => record.type), ['run-start', 'step-start', 'step-end'], 'the effect\'s end landed and the run\'s end did not');
    assert.equal((await store.getRun('run_pipelined'))?.status, 'running');
    await assert.rejects(outage.store.getRun('run_pipelined'), (error: unknown) => error instanceof KeelError && error.code === 'db-unavailable');
    assert.deepEqual(Object.fromEntries(outage.refused), { append: 1, getRun: 1 });
    outage.end();
    assert.equal((await outage.store.getRun('run_pipelined'))?.lastSeq, 3);
  } finally {
    await store.close();
  }
});

test('an append whose last record is the effect\'s end lands whole, and the outage starts after it', async () => {
  const store = SqliteStore.open({ path: ':memory:' });
  try {
    const outage = storeOutage(store);
    const writer = await openRun(store, 'run_alone');
    outage.arm('run_alone', (record) => isEffectEnd(record));
    const start = writer.build('step-start', { step: 1, name: 'issue_refund', kind: 'tool-call', idempotent: false, attempt: 1, epoch: 0 });
    const end = writer.build('step-end', { step: 1, name: 'issue_refund', kind: 'tool-call', epoch: 0, durationMs: 3, outcome: { ok: true, value: 'paid' } });
    await outage.store.append({ runId: 'run_alone', records: [toRecord(start), toRecord(end)], summary: { stepCount: 1 } });
    assert.equal(outage.on, true);
    assert.equal((await store.getRun('run_alone'))?.stepCount, 1, 'the whole append, its summary too');
    await assert.rejects(outage.store.append({ runId: 'run_alone', records: [toRecord(writer.build('run-end', { status: 'ok' }))], summary: { status: 'ok' } }), { code: 'db-unavailable' });
  } finally {
    await store.close();
  }
});
