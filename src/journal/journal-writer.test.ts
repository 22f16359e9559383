import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SqliteStore } from '../store/index.ts';
import type { JournalEvent } from './index.ts';
import { genesisHash, JournalWriter, sealEvent, toRecord, verifyChain } from './index.ts';

async function openRun(): Promise<{ store: SqliteStore; writer: JournalWriter }> {
  const store = SqliteStore.open({ path: ':memory:' });
  const first = sealEvent({ runId: 'run_1', seq: 1, prevHash: genesisHash }, 'run-start', { task: 't', taskVersion: '1', input: null, principal: 'p', tenant: 't', configHash: 'c', config: null });
  await store.createRun({ run: { id: 'run_1', task: 't', taskVersion: '1', principal: 'p', tenant: 't', status: 'running' }, first: toRecord(first) });
  return { store, writer: new JournalWriter({ store, runId: 'run_1', lastSeq: 1, lastHash: first.hash }) };
}

test('a deferred event is a snapshot taken when it is pipelined, sealed in order before the next event is built', async () => {
  const { store, writer } = await openRun();
  try {
    const value = { answer: 'refund approved', items: ['A-1001'] };
    const told: JournalEvent[] = [];
    const listener = (event: JournalEvent) => {
      told.push(event);
      return { stepCount: told.length };
    };
    writer.pipelineData('step-start', { step: 1, name: 'draft', kind: 'model-call', idempotent: true, attempt: 1, epoch: 0 }, listener);
    writer.pipelineData('step-end', { step: 1, name: 'draft', kind: 'model-call', epoch: 0, durationMs: 3, outcome: { ok: true, value } }, listener);
    // The caller goes on working with its objects: the journal keeps what they were.
    value.items.push('A-1002');
    value.answer = 'changed';
    assert.equal(told.length, 0, 'nothing is sealed before it must be');
    const end = writer.build('run-end', { status: 'ok', output: null });
    assert.deepEqual(
      told.map((event) => [event.seq, event.type]),
      [
        [2, 'step-start'],
        [3, 'step-end'],
      ],
    );
    assert.equal(end.seq, 4);
    assert.equal(end.prevHash, told[1]?.hash);
    assert.deepEqual(told[1]?.data, { step: 1, name: 'draft', kind: 'model-call', epoch: 0, durationMs: 3, outcome: { ok: true, value: { answer: 'refund approved', items: ['A-1001'] } } });
    await writer.commit([end], { status: 'ok' });
    const records = await store.readJournal('run_1');
    assert.deepEqual(
      records.map((record) => record.type),
      ['run-start', 'step-start', 'step-end', 'run-end'],
    );
    assert.deepEqual((records[2]?.data as { outcome: { value: unknown } }).outcome.value, { answer: 'refund approved', items: ['A-1001'] });
    assert.equal(verifyChain(records).ok, true);
    assert.equal((await store.getRun('run_1'))?.stepCount, 2);
  } finally {
    await store.close();
  }
});

test('a deferred detail event of flat data is copied when pipelined: mutating it afterwards changes nothing', async () => {
  const { store, writer } = await openRun();
  try {
    const usage = { inputTokens: 612, outputTokens: 24 };
    const detail = { step: 1, attempt: 1, provider: 'openai', modelId: 'gpt-4o', latencyMs: 40, outcome: 'ok' as const, usage };
    writer.pipelineData('model-attempt-end', detail, () => ({}));
    usage.outputTokens = 9_999;
    detail.latencyMs = 1;
    await writer.settle();
    const records = await store.readJournal('run_1');
    assert.deepEqual(records[1]?.data, { step: 1, attempt: 1, provider: 'openai', modelId: 'gpt-4o', latencyMs: 40, outcome: 'ok', usage: { inputTokens: 612, outputTokens: 24 } });
    assert.equal(verifyChain(records).ok, true);
  } finally {
    await store.close();
  }
});

test('deferred events reach the store on their own, and data that is not JSON is refused when pipelined', async () => {
  const { store, writer } = await openRun();
  try {
    writer.pipelineData('route-decision', { step: 1, route: 'r', provider: 'openai', modelId: 'gpt-4o', reason: 'first', estimatedInputTokens: 10, estimated: false }, () => ({}));
    assert.throws(() => writer.pipelineData('route-decision', { step: 1, route: 'r', provider: 'openai', modelId: 'gpt-4o', reason: 'first', estimatedInputTokens: Number.NaN, estimated: false }, () => ({})));
    await writer.settle();
    const records = await store.readJournal('run_1');
    assert.deepEqual(
      records.map((record) => [record.seq, record.type]),
      [
        [1, 'run-start'],
        [2, 'route-decision'],
      ],
    );
    assert.equal(verifyChain(records).ok, true);
  } finally {
    await store.close();
  }
});
