import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { genesisHash, sealEvent } from '../journal/index.ts';
import type { JournalEvent } from '../journal/index.ts';
import type { JsonValue } from '../spec/index.ts';
import { SqliteStore } from '../store/index.ts';
import { RunSealer } from './run-sealer.ts';
import type { SealedEnvelope, SubjectKeyMaterial } from './sealed-envelope.ts';
import { isSealedEnvelope, openEnvelope, sealValue } from './sealed-envelope.ts';
import { SubjectKeyring } from './subject-keyring.ts';

const key = (subject: string): SubjectKeyMaterial => ({ subject, keyId: `${subject}-key`, material: randomBytes(32) });

test('a field sealed under two subjects opens with both keys, and not with either alone; its key list cannot be swapped', () => {
  const ada = key('ada');
  const alan = key('alan');
  const envelope = sealValue({ note: 'Ada and Alan met on Tuesday' }, [alan, ada]);
  assert.deepEqual(envelope.$sealed.keys, [{ subject: 'ada', keyId: 'ada-key' }, { subject: 'alan', keyId: 'alan-key' }]);
  assert.doesNotMatch(JSON.stringify(envelope), /Tuesday/);
  assert.deepEqual(openEnvelope(envelope, new Map([[ada.keyId, ada], [alan.keyId, alan]])), { note: 'Ada and Alan met on Tuesday' });
  assert.equal(openEnvelope(envelope, new Map([[ada.keyId, ada]])), undefined, 'without alan’s key it stays shut');
  const swapped: SealedEnvelope = { $sealed: { ...envelope.$sealed, keys: [{ subject: 'ada', keyId: 'ada-key' }, { subject: 'bob', keyId: 'alan-key' }] } };
  assert.throws(() => openEnvelope(swapped, new Map([[ada.keyId, ada], [alan.keyId, alan]])), /authenticate/);
});

test('the run sealer seals payload fields only once the run holds someone’s data, and a resumed run goes on sealing', async () => {
  const store = SqliteStore.open({ path: ':memory:', durability: 'normal' });
  try {
    const sealer = new RunSealer(new SubjectKeyring(store.subjectKeys));
    const end = { step: 2, name: 'lookup', kind: 'tool-call' as const, epoch: 0, durationMs: 1, outcome: { ok: true as const, value: { record: 'Ada Lovelace' } } };
    assert.deepEqual(sealer.seal('step-end', end), end, 'nobody’s data yet: unchanged');
    await sealer.include(['cust-42']);
    const sealedEnd = sealer.seal('step-end', end);
    assert.ok(sealedEnd.outcome.ok && isSealedEnvelope(sealedEnd.outcome.value));
    const modelStart = sealer.seal('step-start', { step: 3, name: 'turn-2', kind: 'model-call', idempotent: true, attempt: 1, epoch: 0, input: { provider: 'sim', modelId: 'default', request: { messages: [] } } });
    const input = modelStart.input as { provider: string; request: JsonValue };
    assert.equal(input.provider, 'sim', 'provider and model stay readable');
    assert.ok(isSealedEnvelope(input.request));
    const decision = { principal: 'p', action: 'call', resource: 'r', effect: 'allow' as const, policyIds: [], reason: 'ok', engine: 'e', policySetVersion: 'v' };
    assert.deepEqual(sealer.seal('policy-decision', decision), decision, 'decisions stay readable');
    const runEnd = sealer.seal('run-end', { status: 'ok', output: 'Shipping to Ada' });
    assert.ok(isSealedEnvelope(runEnd.output));

    const stored = sealEvent({ runId: 'r', seq: 2, prevHash: genesisHash }, 'step-end', sealedEnd) as JournalEvent;
    const resumed = await RunSealer.forRun(store, [stored]);
    assert.deepEqual(resumed?.subjects, ['cust-42']);
    const reader = new SubjectKeyring(store.subjectKeys);
    assert.deepEqual(await reader.open(stored.data as unknown as JsonValue), end);

    await store.subjectKeys.destroySubjectKey('cust-42', { by: 'user:dpo', reason: 'erasure', at: '2030-01-01T00:00:00.000Z' });
    const after = await new SubjectKeyring(store.subjectKeys).open(stored.data as unknown as JsonValue);
    assert.deepEqual((after as { outcome: { value: JsonValue } }).outcome.value, { $redacted: { subjects: ['cust-42'], at: '2030-01-01T00:00:00.000Z' } });
  } finally {
    await store.close();
  }
});
