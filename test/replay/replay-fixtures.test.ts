import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PaymentsLedger as ExamplePayments, supportRefundAgent } from '../../examples/support-refund/index.ts';
import { createKeel } from '../../src/agent/index.ts';
import { replayRun } from '../../src/engine/index.ts';
import { genesisHash, hashRecord, verifyChain } from '../../src/journal/index.ts';
import type { JournalRecordV1 } from '../../src/spec/index.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { PaymentsLedger, supportRefundVersions1To3 } from './support-refund-v1-v3/index.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
const folder = mkdtempSync(join(tmpdir(), 'keel-replay-'));
const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
const ledger = new PaymentsLedger(join(folder, 'payments.db'));
const payments = new ExamplePayments(join(folder, 'example-payments.db'));
// Every version of support-refund: 1 to 3 as they were written (hand-written tasks), 4 the example's agent.
const keel = await createKeel({ store, tasks: supportRefundVersions1To3(ledger), agents: [supportRefundAgent({ payments })] });
const tasks = keel.engine.tasks;
after(async () => {
  await keel.close();
  ledger.close();
  payments.close();
  await store.close();
  rmSync(folder, { recursive: true, force: true });
});

const files = readdirSync(fixtures).filter((file) => file.endsWith('.json')).sort();

test('there are recorded journals to replay', () => {
  assert.ok(files.length >= 5, `found ${files.length} fixtures`);
});

for (const file of files) {
  test(`recorded run ${file} replays byte for byte with today's code`, async () => {
    const { records } = JSON.parse(readFileSync(join(fixtures, file), 'utf8')) as { records: JournalRecordV1[] };
    assert.ok(verifyChain(records).ok, 'the fixture is intact');
    const [first, ...rest] = records;
    assert.ok(first !== undefined);
    const start = first.data as { task: string; taskVersion: string; principal: string; tenant: string };
    await store.createRun({ run: { id: first.runId, task: start.task, taskVersion: start.taskVersion, principal: start.principal, tenant: start.tenant, status: 'queued' }, first });
    await store.append({ runId: first.runId, records: rest, summary: {} });
    const report = await replayRun(store, first.runId, tasks);
    assert.ok(report.modelCalls > 0);
    assert.equal(report.firstDifference, undefined, `model input of step ${report.firstDifference?.step} differs: ${JSON.stringify(report.firstDifference?.difference)}`);
    assert.equal(report.stoppedEarly, undefined);
    assert.equal(report.matched, true);
  });
}

test('a changed prompt is caught at the first byte that differs', async () => {
  const file = files[0] ?? '';
  const { records } = JSON.parse(readFileSync(join(fixtures, file), 'utf8')) as { records: JournalRecordV1[] };
  const tampered = structuredClone(records).map((record) => ({ ...record, runId: `${record.runId}-changed` }));
  // Simulate a journal recorded by code whose system prompt said something else.
  for (const record of tampered) {
    const data = record.data as { input?: { request?: { messages?: { role: string; content: unknown }[] } } };
    const system = data.input?.request?.messages?.[0];
    if (system?.role === 'system') system.content = `${String(system.content)} Be brief.`;
  }
  // Re-seal the chain, as the other code would have when it recorded the run.
  let prevHash = genesisHash;
  for (const record of tampered) {
    record.prevHash = prevHash;
    record.hash = hashRecord(record);
    prevHash = record.hash;
  }
  const [first, ...rest] = tampered;
  assert.ok(first !== undefined);
  await store.createRun({ run: { id: first.runId, task: 'support-refund', taskVersion: '1', principal: 'user:maya', tenant: 'acme-shop', status: 'queued' }, first });
  await store.append({ runId: first.runId, records: rest, summary: {} });
  const report = await replayRun(store, first.runId, tasks);
  assert.equal(report.matched, false);
  assert.equal(report.firstDifference?.step, 1);
  assert.match(report.firstDifference?.difference?.recorded ?? '', /Be brief\./);
});
