/**
 * The middleware on a model Keel did not build: @ai-sdk/openai's chat model against a local
 * server speaking OpenAI's wire format. Keel's retries (not the AI SDK's) handle a 429, and the
 * call is one journaled model step priced from Keel's table. And the Keel provider on its own,
 * outside any run: the simulator as a plain AI SDK model.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { APICallError } from '@ai-sdk/provider';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import { createKeel } from '../agent/index.ts';
import type { Keel } from '../agent/index.ts';
import type { JournalEvent } from '../journal/index.ts';
import { parseEvent } from '../journal/index.ts';
import { OpenAIWireServer } from '../models/testing/index.ts';
import type { JsonValue } from '../spec/index.ts';
import { SqliteStore } from '../store/index.ts';
import type { KeelCallMetadata } from './index.ts';
import { keelMiddleware, keelModel } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-ai-sdk-middleware-'));
after(() => rmSync(folder, { recursive: true, force: true }));

describe('keelMiddleware on an AI SDK provider model', () => {
  test('a 429 is retried by Keel, and the answer is one journaled, priced model step', async () => {
    const wire = await OpenAIWireServer.start();
    after(() => wire.close());
    wire.reply({ fixture: 'error-rate-limit.json', status: 429, headers: { 'retry-after-ms': '5' } }, { fixture: 'chat-text.json' });
    const store = SqliteStore.open({ path: join(folder, 'openai.db'), durability: 'normal' });
    const environment = { OPENAI_API_KEY: 'sk-test' };
    const keel: Keel = await createKeel({
      store,
      environment,
      config: { version: 1, routes: [{ name: 'openai:gpt-4o-mini', models: ['openai:gpt-4o-mini'], resilience: { initialDelayMs: 1, maxDelayMs: 10 } }] },
    });
    after(async () => {
      await keel.close();
      await store.close();
    });
    const openai = createOpenAI({ baseURL: wire.baseURL, apiKey: 'sk-test' });
    keel.engine.tasks.register({
      name: 'capital',
      version: '1',
      run: async (context) => {
        const model = wrapLanguageModel({ model: openai.chat('gpt-4o-mini'), middleware: keelMiddleware({ run: context, runtime: keel.runtime }) });
        const result = await generateText({ model, prompt: 'What is the capital of France?', maxRetries: 0 });
        return { text: result.text, keel: (result.providerMetadata?.keel ?? null) as JsonValue, inputTokens: result.usage.inputTokens ?? null };
      },
    });
    const outcome = await keel.run('capital', {});
    assert.equal(outcome.status, 'ok', outcome.reason);
    const output = outcome.output as unknown as { text: string; keel: KeelCallMetadata; inputTokens: number };
    assert.equal(output.text, 'The capital of France is Paris.');
    assert.equal(output.inputTokens, 1310);
    assert.equal(wire.requests.length, 2, 'the 429, then the retry: both sent by Keel, none by the AI SDK');
    assert.equal((wire.requests[1]?.body as { model: string }).model, 'gpt-4o-mini');

    const events: JournalEvent[] = (await store.readJournal(outcome.runId)).map(parseEvent);
    const ends = events.filter((event): event is Extract<JournalEvent, { type: 'step-end' }> => event.type === 'step-end');
    assert.equal(ends.length, 1);
    assert.equal(ends[0]?.data.name, 'ai-sdk:openai:gpt-4o-mini');
    assert.deepEqual(ends[0]?.data.usage, { inputTokens: 1310, outputTokens: 8 });
    assert.ok((ends[0]?.data.cost?.micros ?? 0) > 0);
    assert.equal(output.keel.costMicros, ends[0]?.data.cost?.micros, 'the framework sees the cost Keel journaled');
    assert.equal(events.filter((event) => event.type === 'model-attempt-end').length, 2);
    assert.equal(events.filter((event) => event.type === 'retry-wait').length, 1);
  });
});

describe('keelMiddleware on a stream that fails part-way', () => {
  test('the framework reads the text so far, then the stream fails with an APICallError; the failed step is journaled and billed its reservation', async () => {
    const store = SqliteStore.open({ path: join(folder, 'truncated.db'), durability: 'normal' });
    const keel: Keel = await createKeel({ store });
    after(async () => {
      await keel.close();
      await store.close();
    });
    const seen: { parts: string[]; error: unknown } = { parts: [], error: undefined };
    keel.engine.tasks.register({
      name: 'truncated',
      version: '1',
      run: async (context) => {
        const simulated = keelModel('sim:default', { simulator: { faults: [{ on: { calls: [1] }, fault: { type: 'truncated-stream', afterParts: 3 } }] } });
        const model = wrapLanguageModel({ model: simulated, middleware: keelMiddleware({ run: context, runtime: keel.runtime }) });
        const result = streamText({ model, prompt: 'Tell me a long story about a rain jacket.', maxRetries: 0 });
        try {
          for await (const part of result.fullStream) seen.parts.push(part.type);
        } catch (error) {
          // As when a provider's connection drops mid-stream: the stream itself fails.
          seen.error = error;
        }
        return null;
      },
    });
    const outcome = await keel.run('truncated', {});
    assert.equal(outcome.status, 'ok', `${outcome.reason ?? ''} ${seen.parts.join(', ')}`);
    assert.ok(seen.parts.includes('text-delta'), `text reached the framework before the failure: ${seen.parts.join(', ')}`);
    assert.ok(APICallError.isInstance(seen.error), `the framework saw its APICallError, got ${String(seen.error)}`);
    assert.equal((seen.error as { code?: string }).code, 'model-stream-truncated');
    const events: JournalEvent[] = (await store.readJournal(outcome.runId)).map(parseEvent);
    const end = events.find((event): event is Extract<JournalEvent, { type: 'step-end' }> => event.type === 'step-end');
    assert.equal(end?.data.outcome.ok, false);
    assert.ok((end?.data.cost?.micros ?? 0) > 0, 'a stream cut short is billed its reservation');
  });
});

describe('the Keel provider', () => {
  test('a sim: model answers generateText and streamText outside any run', async () => {
    const model = keelModel('sim:default');
    const generated = await generateText({ model, prompt: 'hello there' });
    assert.equal(generated.text, 'Acknowledged: hello there');
    assert.ok((generated.usage.inputTokens ?? 0) > 0 && (generated.usage.outputTokens ?? 0) > 0);
    assert.equal(generated.finishReason, 'stop');

    const streamed = streamText({ model, prompt: 'hello there' });
    const deltas: string[] = [];
    for await (const delta of streamed.textStream) deltas.push(delta);
    assert.equal(deltas.join(''), 'Acknowledged: hello there');
    assert.ok(deltas.length > 1, 'streamed in parts');
    assert.equal((await streamed.usage).outputTokens, generated.usage.outputTokens);
  });

  test('a bad model name fails when it is named, in one line', () => {
    assert.throws(() => keelModel('nope:model'), { code: 'config-invalid', message: /unknown provider 'nope'/ });
  });
});
