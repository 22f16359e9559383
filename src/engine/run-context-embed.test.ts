import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeelError } from '../errors/index.ts';
import { loadRun } from '../journal/index.ts';
import { SimulatorModel } from '../models/index.ts';
import type { EmbedOptionsV1, EmbedResultV1, JsonValue, LanguageModelV1 } from '../spec/index.ts';
import { SqliteStore } from '../store/sqlite/index.ts';
import { defineTask, Engine, replayRun } from './index.ts';

const who = { principal: 'user:ana', tenant: 'acme' };

/** The simulator, counting the embeddings calls that reach it. */
function counted(): { model: LanguageModelV1; calls: () => number } {
  const simulator = new SimulatorModel({ latency: { firstTokenMs: 0, perOutputTokenMs: 0, jitter: 0 } });
  let calls = 0;
  const model: LanguageModelV1 = {
    specificationVersion: 'v1',
    provider: 'sim',
    modelId: 'default',
    doGenerate: (options) => simulator.doGenerate(options),
    doStream: (options) => simulator.doStream(options),
    doEmbed: (options: EmbedOptionsV1): Promise<EmbedResultV1> => {
      calls += 1;
      return simulator.doEmbed(options);
    },
  };
  return { model, calls: () => calls };
}

test('context.embed is a journaled model-call step: the values as its request, the vectors and tokens with its end, and a replay answers from the journal', async () => {
  const store = SqliteStore.open({ path: ':memory:' });
  const sim = counted();
  const task = defineTask({
    name: 'embed-texts',
    version: '1',
    run: async (context) => {
      const result = await context.embed('embed', sim.model, { values: ['Where is A-1001?', 'Refund my order'], dimensions: 4 });
      return { vectors: result.embeddings as unknown as JsonValue, tokens: result.usage.inputTokens };
    },
  });
  const engine = new Engine({ store, tasks: [task], workerRegistry: false });
  try {
    const outcome = await engine.start(task.name, null, who);
    assert.equal(outcome.status, 'ok', outcome.reason ?? '');
    const output = outcome.output as { vectors: number[][]; tokens: number };
    assert.equal(output.vectors.length, 2);
    assert.ok(output.vectors.every((vector) => vector.length === 4));
    assert.equal(sim.calls(), 1);

    const { events } = await loadRun(store, outcome.runId);
    const start = events.find((event) => event.type === 'step-start');
    const end = events.find((event) => event.type === 'step-end');
    assert.ok(start?.type === 'step-start' && end?.type === 'step-end');
    assert.equal(start.data.kind, 'model-call');
    assert.deepEqual(start.data.input, { provider: 'sim', modelId: 'default', request: { values: ['Where is A-1001?', 'Refund my order'], dimensions: 4 } });
    assert.deepEqual(end.data.usage, { inputTokens: output.tokens, outputTokens: 0 });
    assert.ok(end.data.outcome.ok && (end.data.outcome.value as unknown as EmbedResultV1).embeddings.length === 2, 'the vectors are journaled with the answer');

    const report = await replayRun(store, outcome.runId, engine.tasks);
    assert.equal(report.stoppedEarly, undefined);
    assert.equal(sim.calls(), 1, 'the replay asked no model');
  } finally {
    await store.close();
  }
});

test('a model that makes no embeddings fails the step model-unsupported', async () => {
  const store = SqliteStore.open({ path: ':memory:' });
  const chatOnly: LanguageModelV1 = { specificationVersion: 'v1', provider: 'chat', modelId: 'only', doGenerate: () => Promise.reject(new Error('unused')), doStream: () => Promise.reject(new Error('unused')) };
  let caught: unknown;
  const task = defineTask({
    name: 'embed-unsupported',
    version: '1',
    run: async (context) => {
      try {
        await context.embed('embed', chatOnly, { values: ['x'] });
      } catch (error) {
        caught = error;
      }
      return null;
    },
  });
  const engine = new Engine({ store, tasks: [task], workerRegistry: false });
  try {
    await engine.start(task.name, null, who);
    assert.ok(caught instanceof KeelError && caught.code === 'model-unsupported', String(caught));
    assert.match((caught as Error).message, /chat:only makes no embeddings/);
  } finally {
    await store.close();
  }
});
