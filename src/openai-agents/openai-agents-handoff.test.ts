/**
 * A handoff between two SDK agents inside one Keel run: the triage agent's model asks for the
 * handoff (a tool to the model), the SDK performs it, and the billing agent's model answers; both
 * agents' calls are steps of the one run, and the SDK's handoff span is in its journal.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Agent, Runner, setTraceProcessors, setTracingDisabled } from '@openai/agents';
import { createKeel } from '../agent/index.ts';
import type { JournalEvent } from '../journal/index.ts';
import { parseEvent } from '../journal/index.ts';
import type { ScriptInput, SimulatedTurn } from '../models/index.ts';
import { SqliteStore } from '../store/index.ts';
import { KeelTraceProcessor, keelModelProvider } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-openai-agents-handoff-'));
after(() => rmSync(folder, { recursive: true, force: true }));
before(() => {
  setTracingDisabled(false);
  setTraceProcessors([new KeelTraceProcessor()]);
});
after(() => setTraceProcessors([]));

test('a handoff the model asks for is performed by the SDK, and both agents answer as steps of one run', async () => {
  const store = SqliteStore.open({ path: join(folder, 'handoff.db'), durability: 'normal' });
  const keel = await createKeel({ store });
  after(async () => {
    await keel.close();
    await store.close();
  });
  const offered: string[][] = [];
  const script = ({ request }: ScriptInput): SimulatedTurn => {
    offered.push((request.tools ?? []).map((tool) => tool.name));
    const system = request.messages.find((message) => message.role === 'system')?.content ?? '';
    if (system.startsWith('You triage')) return { type: 'tool-calls', calls: [{ toolName: 'transfer_to_Billing', input: {} }] };
    return { type: 'text', text: 'Billing here: your invoice is on its way.' };
  };
  keel.engine.tasks.register({
    name: 'openai-agents-handoff',
    version: '1',
    run: async (context, input) => {
      const billing = new Agent({ name: 'Billing', instructions: 'You answer billing questions.', model: 'sim:default' });
      const triage = new Agent({ name: 'Triage', instructions: 'You triage requests.', model: 'sim:default', handoffs: [billing] });
      const runner = new Runner({ modelProvider: keelModelProvider({ run: context, runtime: keel.runtime, simulator: { script } }) });
      const result = await runner.run(triage, typeof input === 'string' ? input : JSON.stringify(input));
      return { text: String(result.finalOutput), lastAgent: result.lastAgent?.name ?? null };
    },
  });
  const outcome = await keel.run('openai-agents-handoff', 'Where is my invoice?', { principal: 'ada', tenant: 'acme' });
  assert.equal(outcome.status, 'ok', outcome.reason);
  assert.deepEqual(outcome.output, { text: 'Billing here: your invoice is on its way.', lastAgent: 'Billing' });
  assert.deepEqual(offered, [['transfer_to_Billing'], []], 'the handoff was offered to the triage model as a tool');
  const events = (await store.readJournal(outcome.runId)).map(parseEvent);
  const modelSteps = events.filter((event): event is Extract<JournalEvent, { type: 'step-end' }> => event.type === 'step-end' && event.data.kind === 'model-call');
  assert.equal(modelSteps.length, 2);
  assert.ok(modelSteps.every((step) => (step.data.cost?.micros ?? 0) > 0));
  const spans = events.filter((event): event is Extract<JournalEvent, { type: 'span-end' }> => event.type === 'span-end');
  assert.deepEqual(spans.filter((span) => span.data.kind === 'handoff').map((span) => span.data.name), ['Triage -> Billing']);
  assert.deepEqual(spans.filter((span) => span.data.kind === 'agent').map((span) => span.data.name).sort(), ['Billing', 'Triage']);
});
