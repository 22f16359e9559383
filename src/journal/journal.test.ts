import assert from 'node:assert/strict';
import { test } from 'node:test';
import canonicalize from 'canonicalize';
import type { JournalRecordV1 } from '../spec/index.ts';
import type { JournalEvent } from './index.ts';
import { canonicalJson, foldEvents, sha256, genesisHash, hashRecord, lastVerifiedCheckpoint, sealEvent, toRecord, verifyChain, verifyStoredChain } from './index.ts';

function chain(): JournalEvent[] {
  const events: JournalEvent[] = [];
  const push = <E extends JournalEvent>(make: (position: { runId: string; seq: number; prevHash: string }) => E) => {
    const previous = events.at(-1);
    events.push(make({ runId: 'run_1', seq: events.length + 1, prevHash: previous?.hash ?? genesisHash }));
  };
  push((position) => sealEvent(position, 'run-start', { task: 't', taskVersion: '1', input: { order: 42 }, principal: 'user:ada', tenant: 'acme', configHash: 'c'.repeat(64), config: null }));
  push((position) => sealEvent(position, 'run-resume', { worker: 'w', attempt: 1, found: 'new' }));
  push((position) => sealEvent(position, 'step-start', { step: 1, name: 'load', kind: 'step', idempotent: true, attempt: 1, epoch: 0 }));
  push((position) => sealEvent(position, 'step-end', { step: 1, name: 'load', kind: 'step', epoch: 0, durationMs: 1, outcome: { ok: true, value: 1 } }));
  push((position) => sealEvent(position, 'checkpoint', { label: 'loaded', afterStep: 1, epoch: 0, stateHash: 'h', state: 1, verified: true }));
  push((position) => sealEvent(position, 'step-start', { step: 2, name: 'draft', kind: 'model-call', idempotent: true, attempt: 1, epoch: 0 }));
  push((position) => sealEvent(position, 'step-end', { step: 2, name: 'draft', kind: 'model-call', epoch: 0, durationMs: 5, outcome: { ok: true, value: -1 }, usage: { inputTokens: 100, outputTokens: 20 } }));
  push((position) => sealEvent(position, 'rollback', { checkpointSeq: 5, label: 'loaded', afterStep: 1, epoch: 1, reason: 'negative draft' }));
  push((position) => sealEvent(position, 'step-start', { step: 2, name: 'draft', kind: 'model-call', idempotent: true, attempt: 1, epoch: 1 }));
  push((position) => sealEvent(position, 'step-end', { step: 2, name: 'draft', kind: 'model-call', epoch: 1, durationMs: 5, outcome: { ok: true, value: 7 }, usage: { inputTokens: 100, outputTokens: 25 } }));
  push((position) => sealEvent(position, 'run-end', { status: 'ok', output: 7 }));
  return events;
}

test('canonical JSON orders keys and is stable', () => {
  assert.equal(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1, y: 2 } }), '{"a":[true,null,"x"],"b":1,"c":{"y":2,"z":1}}');
});

test('canonical JSON agrees with a reference RFC 8785 implementation', () => {
  const samples: unknown[] = [
    { b: 1, a: [true, null, 'x'], c: { z: 1, y: 2 } },
    { numbers: [0, -0, 1.5, -1e-7, 1e21, 123456789012345680000, 5e-324, 0.1 + 0.2], 'é': 'ü', A: 'Z', '\u2028': '\u2029' },
    { escapes: 'quote " backslash \\ tab \t newline \n nul \u0000 bell \u0007 emoji 😀', nested: [[[{}]], []] },
    { '10': 'ten', '9': 'nine', '': 'empty', aB: 1, Ab: 2, ab: 3, '😀': 4, 'ﬀ': 5 },
    chain().map(toRecord),
  ];
  for (const sample of samples) assert.equal(canonicalJson(sample), canonicalize(sample));
  assert.throws(() => canonicalJson({ value: Number.NaN }));
  assert.throws(() => canonicalJson({ value: () => 1 }));
});

test('the envelope hash is the hash of the whole record in canonical form', () => {
  for (const record of chain().map(toRecord)) {
    const { hash, ...unsealed } = record;
    assert.equal(hash, sha256(canonicalJson(unsealed)));
  }
});

test('a sealed event is a snapshot: mutating the caller\'s objects afterwards changes nothing', () => {
  const messages = [{ role: 'user', content: 'refund A-1001' }];
  const event = sealEvent({ runId: 'run_1', seq: 1, prevHash: genesisHash }, 'run-start', { task: 't', taskVersion: '1', input: { messages }, principal: 'p', tenant: 't', configHash: 'c', config: null });
  messages.push({ role: 'assistant', content: 'done' });
  assert.equal((event.data.input as { messages: unknown[] }).messages.length, 1);
  assert.equal(verifyChain([toRecord(event)]).ok, true);
});

test('a sealed chain verifies', () => {
  const verdict = verifyChain(chain().map(toRecord));
  assert.equal(verdict.ok, true);
});

test('altering any field of any event is named at that event', () => {
  const alterations: [string, (record: JournalRecordV1) => void][] = [
    ['data', (record) => ((record.data as { outcome: { value: number } }).outcome.value = 999)],
    ['time', (record) => (record.time = '2020-01-01T00:00:00.000Z')],
    ['type', (record) => (record.type = 'step-start')],
  ];
  for (const [field, alter] of alterations) {
    const records = chain().map((event) => structuredClone(toRecord(event)));
    alter(records[6] as JournalRecordV1);
    const verdict = verifyChain(records);
    assert.equal(verdict.ok, false, field);
    assert.ok(!verdict.ok && verdict.seq === 7 && /altered/.test(verdict.problem), `${field}: ${JSON.stringify(verdict)}`);
  }
});

test('a re-hashed forgery breaks the link to the next event', () => {
  const records = chain().map((event) => structuredClone(toRecord(event)));
  const forged = records[3] as JournalRecordV1;
  (forged.data as { outcome: { value: number } }).outcome.value = 2;
  forged.hash = hashRecord(forged);
  const verdict = verifyChain(records);
  assert.ok(!verdict.ok && verdict.seq === 5 && /prevHash/.test(verdict.problem));
});

test('a removed or reordered event is named', () => {
  const records = chain().map(toRecord);
  const removed = verifyChain([...records.slice(0, 4), ...records.slice(5)]);
  assert.ok(!removed.ok && removed.seq === 6 && /missing or out of order/.test(removed.problem));
  const swapped = [...records];
  [swapped[2], swapped[3]] = [swapped[3] as JournalRecordV1, swapped[2] as JournalRecordV1];
  assert.ok(!verifyChain(swapped).ok);
});

test('folding applies rollbacks: voided steps go, spent tokens stay', () => {
  const state = foldEvents(chain());
  assert.equal(state.status, 'ok');
  assert.equal(state.epoch, 1);
  assert.deepEqual(state.steps.get(2)?.end?.outcome, { ok: true, value: 7 });
  assert.equal(state.stepsCompleted, 3);
  assert.deepEqual(state.usage, { inputTokens: 200, outputTokens: 45 });
  assert.equal(lastVerifiedCheckpoint(state)?.label, 'loaded');
  assert.equal(state.attempts, 1);
});

test('a stored chain verifies from its stored text, and any altered byte of it is named', () => {
  const records = chain().map(toRecord);
  const stored = records.map(({ data, ...envelope }) => ({ ...envelope, dataText: canonicalJson(data) }));
  assert.deepEqual(verifyStoredChain(stored), verifyChain(records));
  const altered = stored.map((record) => ({ ...record }));
  (altered[6] as { dataText: string }).dataText = (altered[6] as { dataText: string }).dataText.replace('"value":-1', '"value":-2');
  const verdict = verifyStoredChain(altered);
  assert.ok(!verdict.ok && verdict.seq === 7 && /altered/.test(verdict.problem), JSON.stringify(verdict));
  const notJson = stored.map((record) => ({ ...record }));
  (notJson[2] as { dataText: string }).dataText = '{"step":';
  assert.ok(!verifyStoredChain(notJson).ok);
});

test('stored text in another spelling of the same data (integer-like keys in parse order) still verifies; other data does not', () => {
  const event = sealEvent({ runId: 'run_1', seq: 1, prevHash: genesisHash }, 'run-start', { task: 't', taskVersion: '1', input: { '10': 'ten', '9': 'nine' }, principal: 'p', tenant: 't', configHash: 'c', config: null });
  const { data, ...envelope } = toRecord(event);
  // What JSON.stringify of the parsed data writes: integer-like keys in ascending numeric order, not canonical order.
  const spelled = JSON.stringify(data);
  assert.notEqual(spelled, canonicalJson(data));
  assert.equal(verifyStoredChain([{ ...envelope, dataText: spelled }]).ok, true);
  assert.equal(verifyStoredChain([{ ...envelope, dataText: spelled.replace('ten', 'TEN') }]).ok, false);
});
