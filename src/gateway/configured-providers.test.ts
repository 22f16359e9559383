import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import type { KeelConfig } from '../config/index.ts';
import type { JournalEvent } from '../journal/index.ts';
import { loadRun } from '../journal/index.ts';
import { AnthropicWireServer, OpenAIWireServer } from '../models/testing/index.ts';
import type { TestGateway } from './testing/index.ts';
import { startTestGateway } from './testing/index.ts';
import { createVirtualKey } from './virtual-keys.ts';

// Upstreams the config names itself (`providers`), served by the gateway like the built-in ones: a
// self-hosted OpenAI-compatible server (`vllm`) and an Anthropic-compatible proxy (`claude-proxy`),
// each on its own loopback wire server with its own key.
describe('configured providers through the gateway', () => {
  let vllm: OpenAIWireServer;
  let claude: AnthropicWireServer;
  let served: TestGateway;
  let client: OpenAI;

  const vllmPrice = { inputPerMillion: 100_000, outputPerMillion: 200_000 };
  const claudePrice = { inputPerMillion: 3_000_000, outputPerMillion: 15_000_000 };
  const priced = (price: { inputPerMillion: number; outputPerMillion: number }, input: number, output: number) => Math.ceil((input * price.inputPerMillion + output * price.outputPerMillion) / 1_000_000);

  before(async () => {
    [vllm, claude] = await Promise.all([OpenAIWireServer.start(), AnthropicWireServer.start()]);
    const config: KeelConfig = {
      version: 1,
      providers: {
        vllm: { api: 'openai-chat', baseURL: vllm.baseURL, apiKeyEnv: 'VLLM_API_KEY' },
        'claude-proxy': { api: 'anthropic', baseURL: claude.baseURL, apiKeyEnv: 'PROXY_KEY' },
      },
      prices: { version: 'acme-2027-01', models: { 'vllm:llama-3.1-8b': vllmPrice, 'claude-proxy:claude-sonnet-5-5': claudePrice } },
      routes: [{ name: 'self-hosted-first', models: ['vllm:llama-3.1-8b', 'claude-proxy:claude-sonnet-5-5'], resilience: { maxAttempts: 1 } }],
    };
    // OPENAI_API_KEY is set so a test would see it if it were sent anywhere it does not belong.
    served = await startTestGateway({ config, environment: { VLLM_API_KEY: 'vllm-secret', PROXY_KEY: 'proxy-secret', OPENAI_API_KEY: 'sk-openai-real' } });
    client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'keel-tenant': 'acme' } });
  });
  after(async () => {
    await served.close();
    await Promise.all([vllm.close(), claude.close()]);
  });

  async function journal(runId: string | null): Promise<readonly JournalEvent[]> {
    assert.ok(runId !== null, 'the response names its run');
    return (await loadRun(served.gateway.keel.store, runId)).events;
  }

  test('a route whose self-hosted model answers 500 falls back to the proxy: each attempt journaled under its provider, the run priced by the NAME:model price', async () => {
    vllm.reply({ fixture: 'error-server.json', status: 500 });
    claude.reply({ fixture: 'message-text.json' });
    const { data, response } = await client.chat.completions.create({ model: 'self-hosted-first', messages: [{ role: 'user', content: 'Hello' }] }).withResponse();
    assert.equal(data.choices[0]?.message.content, 'Hello! How can I help you today?');
    assert.equal(data.model, 'self-hosted-first');

    // Each upstream was asked for its own model id, with its own key.
    assert.equal((vllm.lastRequest.body as { model: string }).model, 'llama-3.1-8b');
    assert.equal(vllm.lastRequest.headers.authorization, 'Bearer vllm-secret');
    assert.equal((claude.lastRequest.body as { model: string }).model, 'claude-sonnet-5-5');
    assert.equal(claude.lastRequest.headers.authorization, 'Bearer proxy-secret');

    const runId = response.headers.get('keel-run-id');
    const events = await journal(runId);
    const attempts = events.flatMap((event) => (event.type === 'model-attempt-end' ? [[event.data.provider, event.data.modelId, event.data.outcome, event.data.error?.code]] : []));
    assert.deepEqual(attempts, [
      ['vllm', 'llama-3.1-8b', 'error', 'model-server-error'],
      ['claude-proxy', 'claude-sonnet-5-5', 'ok', undefined],
    ]);
    const fallback = events.find((event) => event.type === 'model-fallback');
    assert.deepEqual(fallback?.type === 'model-fallback' ? [fallback.data.from, fallback.data.to] : [], ['vllm:llama-3.1-8b', 'claude-proxy:claude-sonnet-5-5']);
    const reserved = events.flatMap((event) => (event.type === 'budget-decision' ? [`${event.data.outcome} ${event.data.provider}:${event.data.modelId}`] : []));
    assert.deepEqual(reserved, ['reserved vllm:llama-3.1-8b', 'reserved claude-proxy:claude-sonnet-5-5']);

    const run = await served.run(runId);
    assert.equal(run.status, 'ok');
    // message-text.json: 12 tokens in, 12 out, at the proxy's price (nothing for the failed attempt).
    assert.deepEqual([run.inputTokens, run.outputTokens], [12, 12]);
    assert.equal(run.costMicros, priced(claudePrice, 12, 12));
  });

  test('a client names vllm:llama-3.1-8b like any model: listed by GET /v1/models, answered by its server, priced at its price', async () => {
    const listed = (await client.models.list()).data.map((model) => model.id);
    for (const name of ['self-hosted-first', 'vllm:llama-3.1-8b', 'claude-proxy:claude-sonnet-5-5']) assert.ok(listed.includes(name), `${name} is listed (got ${listed.join(', ')})`);

    vllm.reply({ fixture: 'chat-text.json' });
    const { data, response } = await client.chat.completions.create({ model: 'vllm:llama-3.1-8b', messages: [{ role: 'user', content: 'What is the capital of France?' }] }).withResponse();
    assert.equal(data.model, 'vllm:llama-3.1-8b');
    assert.equal(data.choices[0]?.message.content, 'The capital of France is Paris.');
    assert.equal(vllm.lastRequest.path, '/v1/chat/completions');
    assert.equal((vllm.lastRequest.body as { model: string }).model, 'llama-3.1-8b');
    const run = await served.run(response.headers.get('keel-run-id'));
    assert.equal(run.task, 'gateway:vllm:llama-3.1-8b');
    assert.equal(run.status, 'ok');
    // chat-text.json: 1310 prompt tokens (no cached price configured: all at the input price), 8 completion tokens.
    assert.deepEqual([run.inputTokens, run.outputTokens], [1310, 8]);
    assert.equal(run.costMicros, priced(vllmPrice, 1310, 8));
    const attempt = (await journal(run.id)).find((event) => event.type === 'model-attempt-end');
    assert.deepEqual(attempt?.type === 'model-attempt-end' ? [attempt.data.provider, attempt.data.modelId] : [], ['vllm', 'llama-3.1-8b']);

    // A provider the config does not name is a 404 that lists the ones it does.
    const unknown = await client.chat.completions.create({ model: 'groq:llama-3.1-8b', messages: [{ role: 'user', content: 'Hello' }] }).catch((error: unknown) => error);
    assert.ok(unknown instanceof OpenAI.NotFoundError, String(unknown));
    assert.match(unknown.message, /unknown provider 'groq' \(known: sim, openai, openai-responses, anthropic, vllm, claude-proxy\)/);
  });

  // Last: once the store holds a key, every request needs one.
  test("a virtual key calls a configured provider's model when it lists it, and no other", async () => {
    const keys = served.gateway.keel.store.keys;
    assert.ok(keys !== undefined);
    const { secret } = await createVirtualKey(keys, { tenant: 'acme', principal: 'svc-search', settings: { models: ['vllm:llama-3.1-8b'] } });
    const keyed = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
    vllm.reply({ fixture: 'chat-text.json' });
    const answer = await keyed.chat.completions.create({ model: 'vllm:llama-3.1-8b', messages: [{ role: 'user', content: 'What is the capital of France?' }] });
    assert.equal(answer.choices[0]?.message.content, 'The capital of France is Paris.');
    const refused = await keyed.chat.completions.create({ model: 'claude-proxy:claude-sonnet-5-5', messages: [{ role: 'user', content: 'Hello' }] }).catch((error: unknown) => error);
    assert.ok(refused instanceof OpenAI.PermissionDeniedError, String(refused));
    assert.match(refused.message, /may not call model claude-proxy:claude-sonnet-5-5/);
  });
});
