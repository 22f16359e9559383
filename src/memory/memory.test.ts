import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import type { ContextItem } from '../context/index.ts';
import { defineTask, Engine } from '../engine/index.ts';
import type { RunContext } from '../engine/index.ts';
import { loadRun } from '../journal/index.ts';
import type { GenerateOptionsV1, GenerateResultV1, LanguageModelV1, MemoryEntryV1 } from '../spec/index.ts';
import { SqliteStore } from '../store/index.ts';
import { contentHash, Handoff, LongTermMemory, memorySource, SessionMemory } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-memory-'));
const path = join(folder, 'keel.db');
const store = SqliteStore.open({ path, durability: 'normal' });
after(async () => {
  await store.close();
  rmSync(folder, { recursive: true, force: true });
});

const run = promisify(execFile);

test('a session written in one process is read, and added to, in another', async () => {
  const memory = new SessionMemory({ store, tenant: 'acme', sessionId: 'cross-process' });
  await memory.remember('my order 1042 is late', { labels: { classification: 'personal', origin: 'user' } });
  await memory.remember('I am looking into order 1042', { role: 'assistant' });
  const { stdout } = await run(process.execPath, [join(import.meta.dirname, 'session-process.fixture.ts'), path, 'acme', 'cross-process']);
  const seen = JSON.parse(stdout) as ContextItem[];
  assert.deepEqual(seen.map((item) => [item.source, item.id, item.text, item.role]), [
    ['memory:session', 'cross-process#1', 'my order 1042 is late', 'user'],
    ['memory:session', 'cross-process#2', 'I am looking into order 1042', 'assistant'],
  ]);
  assert.deepEqual(seen[0]?.labels, { tenants: ['acme'], classification: 'personal', origins: ['user'] });
  assert.deepEqual(seen[1]?.labels, { tenants: ['acme'], origins: [] }, 'what nobody labelled stays unlabelled');
  assert.equal(seen[0]?.version, contentHash('my order 1042 is late').slice(0, 16));
  const entries = await memory.entries();
  assert.equal(entries.at(-1)?.text, 'child saw 2 items');
  assert.deepEqual(entries.at(-1)?.source, { runId: 'child-run', step: 1 });
});

test('summarisation replaces the oldest entries once over budget and keeps their provenance', async () => {
  const memory = new SessionMemory({ store, tenant: 'acme', sessionId: 'summarise' });
  for (let turn = 1; turn <= 6; turn += 1) {
    await memory.remember(`turn ${turn}: ${'a fairly long message about the refund policy '.repeat(4)}`, { source: { runId: 'run-x', step: turn } });
  }
  const before = await memory.entries();
  const total = memory.tokensOf(before);
  assert.equal(await memory.summariseIfOver(total, () => Promise.reject(new Error('not over budget'))), undefined);
  let given: MemoryEntryV1[] = [];
  const summary = await memory.summariseIfOver(
    total - 1,
    (entries) => {
      given = entries;
      return Promise.resolve({ text: 'turns 1-5: the customer asked about refunds', source: { runId: 'run-y', step: 9 } });
    },
    { keepLast: 1 },
  );
  assert.deepEqual(given.map((entry) => entry.seq), [1, 2, 3, 4, 5]);
  assert.ok(summary);
  assert.equal(summary.role, 'summary');
  assert.deepEqual(summary.source, { runId: 'run-y', step: 9 });
  assert.deepEqual(summary.summarises, before.slice(0, 5).map((entry) => ({ seq: entry.seq, contentHash: entry.contentHash, source: entry.source })));
  const after = await memory.entries();
  assert.deepEqual(after.map((entry) => entry.seq), [5, 6]);
  assert.ok(memory.tokensOf(after) < total);
  const items = await memory.items();
  assert.equal(items[0]?.text, 'turns 1-5: the customer asked about refunds');
});

test('memory is isolated by tenant: the same principal and session in another tenant see nothing', async () => {
  const acme = new LongTermMemory({ store, tenant: 'acme', principal: 'user:ada' });
  const globex = new LongTermMemory({ store, tenant: 'globex', principal: 'user:ada' });
  await acme.remember('prefers email');
  assert.deepEqual(await globex.items(), []);
  await globex.remember('prefers phone');
  assert.deepEqual((await acme.items()).map((item) => item.text), ['prefers email']);
  assert.deepEqual((await globex.items()).map((item) => [item.text, item.labels.tenants]), [['prefers phone', ['globex']]]);
  const acmeSession = new SessionMemory({ store, tenant: 'acme', sessionId: 'shared-id' });
  await acmeSession.remember('acme only');
  assert.deepEqual(await new SessionMemory({ store, tenant: 'globex', sessionId: 'shared-id' }).entries(), []);
  assert.deepEqual(await new Handoff({ store, tenant: 'globex', handoffId: 'shared-id' }).read(), undefined);
});

/** A model that answers every call with one fixed text, counting its calls. */
function fixedModel(text: string): LanguageModelV1 & { calls: GenerateOptionsV1[] } {
  const calls: GenerateOptionsV1[] = [];
  return {
    specificationVersion: 'v1',
    provider: 'sim',
    modelId: 'summariser',
    calls,
    doGenerate(options: GenerateOptionsV1): Promise<GenerateResultV1> {
      calls.push(options);
      return Promise.resolve({
        content: [{ type: 'text', text }],
        finishReason: 'stop',
        usage: { inputTokens: 50, outputTokens: 10 },
        response: { id: `resp-${calls.length}`, modelId: 'summariser' },
      } as GenerateResultV1);
    },
    doStream(): never {
      throw new Error('not used');
    },
  };
}

test('a hand-off between two runs of two tasks, with a summary made by a journaled model call', async () => {
  const model = fixedModel('customer wants a refund for order 1042');
  const summarise = (context: RunContext, entries: MemoryEntryV1[]) =>
    context
      .model('summarise-memory', model, { messages: [{ role: 'user', content: [{ type: 'text', text: entries.map((entry) => entry.text).join('\n') }] }] })
      .then((result) => result.content.map((part) => (part.type === 'text' ? part.text : '')).join(''));
  const triage = defineTask({
    name: 'triage-agent',
    version: '1',
    run: async (context, input: { sessionId: string; handoffId: string }) => {
      const session = new SessionMemory({ store, tenant: context.tenant, sessionId: input.sessionId });
      for (const text of ['hi', 'order 1042 arrived broken', 'I want my money back']) {
        await context.step('remember', (info) => session.remember(text, { source: memorySource(context.runId, info) }).then((entry) => entry.seq), { idempotent: true });
      }
      const summary = await session.summariseIfOver(5, (entries) => summarise(context, entries), { keepLast: 0, source: memorySource(context.runId) });
      await context.step(
        'hand-off',
        (info) => new Handoff({ store, tenant: context.tenant, handoffId: input.handoffId }).write({ intent: 'refund', order: 1042, summary: summary?.text ?? null }, { source: memorySource(context.runId, info) }).then((entry) => entry.seq),
      );
      return summary?.text ?? null;
    },
  });
  const refunds = defineTask({
    name: 'refund-agent',
    version: '1',
    run: async (context, input: { handoffId: string }) => {
      const received = await context.step('read-hand-off', async () => {
        const handed = await new Handoff({ store, tenant: context.tenant, handoffId: input.handoffId }).read();
        return handed === undefined ? null : { state: handed.state, from: handed.entry.source.runId };
      }, { idempotent: true });
      return received;
    },
  });
  const engine = new Engine({ store, tasks: [triage, refunds], leaseMs: 5_000 });
  const who = { principal: 'user:ada', tenant: 'acme' };
  const first = await engine.start('triage-agent', { sessionId: 'support-1', handoffId: 'ticket-7' }, who);
  assert.equal(first.status, 'ok');
  assert.equal(first.output, 'customer wants a refund for order 1042');
  assert.equal(model.calls.length, 1);
  const { events } = await loadRun(store, first.runId);
  assert.ok(events.some((event) => event.type === 'step-start' && (event.data as { kind?: string }).kind === 'model-call'), 'the summary came from a journaled model call');

  const session = await new SessionMemory({ store, tenant: 'acme', sessionId: 'support-1' }).entries();
  assert.equal(session.length, 1);
  assert.equal(session[0]?.role, 'summary');
  assert.deepEqual(session[0]?.summarises?.map((entry) => entry.source), [1, 2, 3].map((step) => ({ runId: first.runId, step })));

  const second = await engine.start('refund-agent', { handoffId: 'ticket-7' }, who);
  assert.equal(second.status, 'ok');
  assert.deepEqual(second.output, { state: { intent: 'refund', order: 1042, summary: 'customer wants a refund for order 1042' }, from: first.runId });
  const other = await engine.start('refund-agent', { handoffId: 'ticket-7' }, { principal: 'user:eve', tenant: 'globex' });
  assert.equal(other.output, null, 'another tenant cannot read the hand-off');
});
