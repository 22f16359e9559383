import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KeelError } from '../../errors/index.ts';
import { createOpenAIModel } from './create-openai-model.ts';
import { OpenAIChatModel } from './openai-chat-model.ts';
import { OpenAIResponsesModel } from './openai-responses-model.ts';
import { OpenAIWireServer } from './testing/openai-wire-server.ts';

const hello = { messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }] };

describe('createOpenAIModel', () => {
  let server: OpenAIWireServer;
  before(async () => {
    server = await OpenAIWireServer.start();
  });
  after(async () => server.close());

  test('a missing OPENAI_API_KEY for the real endpoint is config-invalid, naming the variable', () => {
    assert.throws(
      () => createOpenAIModel('gpt-4o', { environment: {} }),
      (error: unknown) => error instanceof KeelError && error.code === 'config-invalid' && error.message === 'OPENAI_API_KEY is not set (needed for model openai:gpt-4o)',
    );
    assert.throws(() => createOpenAIModel('gpt-4o', { environment: { OPENAI_API_KEY: ' ', OPENAI_BASE_URL: 'https://api.openai.com/v1' } }), /OPENAI_API_KEY is not set/);
  });

  test('reads the key from the environment, defaulting to chat on api.openai.com', () => {
    const model = createOpenAIModel('gpt-4o', { environment: { OPENAI_API_KEY: 'sk-env' } });
    assert.ok(model instanceof OpenAIChatModel);
    assert.equal(model.provider, 'openai');
    assert.equal(model.modelId, 'gpt-4o');
    assert.ok(createOpenAIModel('gpt-4.1', { api: 'responses', apiKey: 'sk-x', environment: {} }) instanceof OpenAIResponsesModel);
  });

  test('a custom base URL needs no key and sends a placeholder', async () => {
    server.reply({ fixture: 'chat-text.json' });
    const model = createOpenAIModel('llama3.1:8b', { environment: { OPENAI_BASE_URL: server.baseURL } });
    assert.equal(model.provider, 'openai-compatible');
    await model.doGenerate(hello);
    assert.match(String(server.lastRequest.headers.authorization), /^Bearer \S+$/);
    assert.equal(server.lastRequest.path, '/v1/chat/completions');
  });

  test('explicit options win over the environment', async () => {
    server.reply({ fixture: 'responses-text.json' });
    const model = createOpenAIModel('gpt-4.1', { api: 'responses', apiKey: 'sk-explicit', baseURL: server.baseURL, environment: { OPENAI_API_KEY: 'sk-env', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' } });
    await model.doGenerate(hello);
    assert.equal(server.lastRequest.headers.authorization, 'Bearer sk-explicit');
    assert.equal(server.lastRequest.path, '/v1/responses');
  });

  test('a base URL that is not a URL is config-invalid', () => {
    assert.throws(() => createOpenAIModel('gpt-4o', { environment: { OPENAI_BASE_URL: 'localhost:8000' } }), (error: unknown) => error instanceof KeelError && error.code === 'config-invalid');
  });
});
