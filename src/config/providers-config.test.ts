import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KeelError } from '../errors/index.ts';
import { resolveModel } from '../models/index.ts';
import { AnthropicWireServer, OpenAIWireServer } from '../models/testing/index.ts';
import { buildGovernance, configHash, parseConfig } from './index.ts';

// The config file's `providers`: upstreams beside the built-in ones, by the name models are written with.
const source = 'keel.config.json';

type Json = Record<string, unknown>;

function config(overrides: Json = {}): Json {
  return {
    version: 1,
    providers: {
      vllm: { api: 'openai-chat', baseURL: 'http://10.0.0.5:8000/v1', apiKeyEnv: 'VLLM_API_KEY' },
      'claude-proxy': { api: 'anthropic', baseURL: 'https://claude.example.com', apiKeyEnv: 'PROXY_KEY', headers: { 'x-team': 'search' } },
    },
    prices: {
      version: 'acme-2027-01',
      models: { 'vllm:llama-3.1-8b': { inputPerMillion: 100_000, outputPerMillion: 200_000 }, 'claude-proxy:claude-sonnet-5-5': { inputPerMillion: 3_000_000, outputPerMillion: 15_000_000 } },
    },
    routes: [{ name: 'local', models: ['vllm:llama-3.1-8b', 'claude-proxy:claude-sonnet-5-5'], pin: { 'vllm:llama-3.1-8b': 'llama-3.1-8b-instruct' } }],
    ...overrides,
  };
}

function withProvider(name: string, setting: unknown): Json {
  return config({ providers: { [name]: setting } });
}

function assertConfigError(action: () => unknown, message: string): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof KeelError, `expected a KeelError, got ${String(error)}`);
    assert.equal(error.code, 'config-invalid');
    assert.equal(error.message, message);
    return true;
  });
}

const environment = { VLLM_API_KEY: 'vllm-secret', PROXY_KEY: 'proxy-secret' };

describe('the providers section', () => {
  test('a configured provider makes NAME:model a model routes, pins and prices name; it reports its own name', () => {
    const parsed = parseConfig(config(), source);
    assert.deepEqual(Object.keys(parsed.providers ?? {}), ['vllm', 'claude-proxy']);
    const built = buildGovernance(parsed, { environment, source });
    assert.ok(built.routes.has('local'));
    assert.deepEqual(built.prices.models['vllm:llama-3.1-8b'], { inputPerMillion: 100_000, outputPerMillion: 200_000 });

    const model = resolveModel('vllm:llama-3.1-8b', { environment, ...(parsed.providers === undefined ? {} : { providers: parsed.providers }) });
    assert.deepEqual([model.provider, model.modelId], ['vllm', 'llama-3.1-8b']);
    const claude = resolveModel('claude-proxy:claude-sonnet-5-5', { environment, providers: parsed.providers ?? {} });
    assert.deepEqual([claude.provider, claude.modelId], ['claude-proxy', 'claude-sonnet-5-5']);
  });

  test('the section is part of the config hash: another endpoint is another config', () => {
    const first = configHash(parseConfig(config(), source));
    const moved = config();
    (moved.providers as Record<string, Json>).vllm = { api: 'openai-chat', baseURL: 'http://10.0.0.6:8000/v1', apiKeyEnv: 'VLLM_API_KEY' };
    assert.notEqual(configHash(parseConfig(moved, source)), first);
  });

  test('a name may not shadow a built-in provider', () => {
    for (const name of ['openai', 'sim', 'anthropic', 'openai-responses', 'openai-compatible']) {
      assertConfigError(
        () => parseConfig(withProvider(name, { api: 'openai-chat', baseURL: 'http://127.0.0.1:8000/v1' }), source),
        `keel.config.json: providers${name.includes('-') ? `["${name}"]` : `.${name}`}: '${name}' is a built-in provider (sim, openai, openai-responses, anthropic, openai-compatible); give this one another name`,
      );
    }
  });

  test("a name is lowercase letters, digits and '-'", () => {
    assertConfigError(
      () => parseConfig(withProvider('My_Proxy', { api: 'openai-chat', baseURL: 'http://127.0.0.1:8000/v1' }), source),
      "keel.config.json: providers.My_Proxy: a provider's name must be lowercase letters, digits and '-' (it is the NAME of NAME:model), got 'My_Proxy'",
    );
  });

  test('baseURL is an http(s) URL without credentials; api is one of the adapters', () => {
    assertConfigError(() => parseConfig(withProvider('vllm', { api: 'openai-chat', baseURL: 'localhost:8000' }), source), "keel.config.json: providers.vllm.baseURL: must be an http(s) URL, got 'localhost:8000'");
    assertConfigError(() => parseConfig(withProvider('vllm', { api: 'openai-chat', baseURL: 'ftp://10.0.0.5/v1' }), source), "keel.config.json: providers.vllm.baseURL: must be an http(s) URL, got 'ftp://10.0.0.5/v1'");
    assertConfigError(
      () => parseConfig(withProvider('vllm', { api: 'openai-chat', baseURL: 'https://user:hunter2@10.0.0.5/v1' }), source),
      'keel.config.json: providers.vllm.baseURL: must not carry credentials (user:password@); name the variable holding the key in apiKeyEnv',
    );
    assertConfigError(
      () => parseConfig(withProvider('vllm', { api: 'gemini', baseURL: 'http://10.0.0.5/v1' }), source),
      "keel.config.json: providers.vllm.api: must be one of 'openai-chat', 'openai-responses', 'anthropic', got 'gemini'",
    );
    assertConfigError(
      () => parseConfig(withProvider('vllm', { api: 'openai-chat', baseURL: 'http://10.0.0.5/v1', apiKey: 'sk-inline' }), source),
      'keel.config.json: providers.vllm.apiKey: unknown setting (allowed here: api, baseURL, apiKeyEnv, headers)',
    );
  });

  test('secrets stay out of the file: apiKeyEnv is a variable name, never echoed; no credential header', () => {
    const pasted = 'sk-proj-abcdef0123456789';
    assert.throws(
      () => parseConfig(withProvider('vllm', { api: 'openai-chat', baseURL: 'http://10.0.0.5/v1', apiKeyEnv: pasted }), source),
      (error: unknown) => {
        assert.ok(error instanceof KeelError);
        assert.equal(error.message, 'keel.config.json: providers.vllm.apiKeyEnv: must be the name of an environment variable (letters, digits and _), not the key itself');
        assert.ok(!JSON.stringify(error.details).includes(pasted), 'the value is not repeated in the details either');
        return true;
      },
    );
    assertConfigError(
      () => parseConfig(withProvider('vllm', { api: 'openai-chat', baseURL: 'http://10.0.0.5/v1', headers: { Authorization: 'Bearer sk-inline' } }), source),
      'keel.config.json: providers.vllm.headers.Authorization: carries a credential; name the variable holding the key in apiKeyEnv instead',
    );
    assertConfigError(
      () => parseConfig(withProvider('vllm', { api: 'openai-chat', baseURL: 'http://10.0.0.5/v1', headers: { 'x-team': 'a\r\nx-injected: 1' } }), source),
      'keel.config.json: providers.vllm.headers["x-team"]: must be one line',
    );
  });

  test('an unknown provider in a route, a price or the free list names the configured ones', () => {
    assertConfigError(
      () => parseConfig(config({ routes: [{ name: 'local', models: ['vllm:llama-3.1-8b', 'vlm:llama-3.1-8b'] }] }), source),
      "keel.config.json: routes[0].models[1]: unknown provider 'vlm' in 'vlm:llama-3.1-8b' (known: sim, openai, openai-responses, anthropic, vllm, claude-proxy)",
    );
    assertConfigError(
      () => parseConfig(config({ prices: { version: 'p', models: { 'ollama:llama3:8b': { inputPerMillion: 0, outputPerMillion: 0 } } } }), source),
      'keel.config.json: prices.models["ollama:llama3:8b"]: unknown provider \'ollama\' in \'ollama:llama3:8b\' (known: sim, openai, openai-responses, anthropic, openai-compatible, vllm, claude-proxy)',
    );
    assertConfigError(
      () => parseConfig(config({ prices: { version: 'p', models: {}, free: ['vllm:*', 'groq:*'] } }), source),
      "keel.config.json: prices.free[1]: unknown provider 'groq' in 'groq:*' (known: sim, openai, openai-responses, anthropic, openai-compatible, vllm, claude-proxy)",
    );
    // Without the section, the message is today's.
    const { providers: _providers, prices: _prices, ...bare } = config();
    assertConfigError(
      () => parseConfig({ ...bare, routes: [{ name: 'local', models: ['vllm:llama-3.1-8b'] }] }, source),
      "keel.config.json: routes[0].models[0]: unknown provider 'vllm' in 'vllm:llama-3.1-8b' (known: sim, openai, openai-responses, anthropic)",
    );
  });

  test("a missing key variable fails at start, naming the variable, the provider and the route", () => {
    assertConfigError(
      () => buildGovernance(parseConfig(config(), source), { environment: { PROXY_KEY: 'proxy-secret' }, source }),
      "keel.config.json: routes[0] (local): VLLM_API_KEY is not set (needed for model vllm:llama-3.1-8b: provider vllm's apiKeyEnv)",
    );
    // A provider without apiKeyEnv takes no key, and never borrows OPENAI_API_KEY.
    const keyless = config({ providers: { vllm: { api: 'openai-chat', baseURL: 'http://10.0.0.5:8000/v1' }, 'claude-proxy': { api: 'anthropic', baseURL: 'https://claude.example.com', apiKeyEnv: 'PROXY_KEY' } } });
    assert.ok(buildGovernance(parseConfig(keyless, source), { environment: { PROXY_KEY: 'proxy-secret' }, source }).routes.has('local'));
  });

  test('a configured model without a price fails at start as any unpriced model does, until declared free', () => {
    const unpriced = config({ routes: [{ name: 'local', models: ['vllm:qwen-2.5-7b'] }] });
    assertConfigError(
      () => buildGovernance(parseConfig(unpriced, source), { environment, source }),
      'keel.config.json: routes[0] (local): no price for vllm:qwen-2.5-7b in price table acme-2027-01; add it to the table or declare it free (free: ["vllm:qwen-2.5-7b"])',
    );
    const free = config({ routes: [{ name: 'local', models: ['vllm:qwen-2.5-7b'] }], prices: { version: 'acme-2027-01', models: {}, free: ['vllm:*'] } });
    assert.ok(buildGovernance(parseConfig(free, source), { environment, source }).routes.has('local'));
  });
});

describe('a configured provider on the wire', () => {
  let openaiWire: OpenAIWireServer;
  let anthropicWire: AnthropicWireServer;
  before(async () => {
    [openaiWire, anthropicWire] = await Promise.all([OpenAIWireServer.start(), AnthropicWireServer.start()]);
  });
  after(async () => {
    await Promise.all([openaiWire.close(), anthropicWire.close()]);
  });

  const hello = { messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Hello' }] }] };

  test("each call goes to the provider's endpoint with its own key and headers, never the built-in providers' keys", async () => {
    const providers = {
      vllm: { api: 'openai-chat' as const, baseURL: openaiWire.baseURL, apiKeyEnv: 'VLLM_API_KEY', headers: { 'x-team': 'search' } },
      local: { api: 'openai-chat' as const, baseURL: openaiWire.baseURL },
      'claude-proxy': { api: 'anthropic' as const, baseURL: anthropicWire.baseURL, apiKeyEnv: 'PROXY_KEY' },
    };
    const keys = { ...environment, OPENAI_API_KEY: 'sk-openai-real', OPENAI_ORG_ID: 'org-real', ANTHROPIC_API_KEY: 'sk-ant-real' };
    openaiWire.reply({ fixture: 'chat-text.json' }, { fixture: 'chat-text.json' });
    anthropicWire.reply({ fixture: 'message-text.json' });

    const answer = await resolveModel('vllm:llama-3.1-8b', { environment: keys, providers }).doGenerate(hello);
    assert.equal(answer.content[0]?.type === 'text' ? answer.content[0].text : undefined, 'The capital of France is Paris.');
    const sent = openaiWire.lastRequest;
    assert.equal(sent.path, '/v1/chat/completions');
    assert.equal((sent.body as { model: string }).model, 'llama-3.1-8b');
    assert.equal(sent.headers.authorization, 'Bearer vllm-secret');
    assert.equal(sent.headers['x-team'], 'search');
    assert.equal(sent.headers['openai-organization'], undefined, "OPENAI_ORG_ID is OpenAI's, not this server's");

    await resolveModel('local:llama3:8b', { environment: keys, providers }).doGenerate(hello);
    assert.equal(openaiWire.lastRequest.headers.authorization, 'Bearer keel-no-api-key', 'no key configured: none sent, OPENAI_API_KEY least of all');
    assert.equal((openaiWire.lastRequest.body as { model: string }).model, 'llama3:8b');

    const claude = await resolveModel('claude-proxy:claude-sonnet-5-5', { environment: keys, providers }).doGenerate(hello);
    assert.equal(claude.content[0]?.type === 'text' ? claude.content[0].text : undefined, 'Hello! How can I help you today?');
    // The Anthropic SDK 1.x sends the key as a bearer token.
    assert.equal(anthropicWire.lastRequest.headers.authorization, 'Bearer proxy-secret');
    assert.equal((anthropicWire.lastRequest.body as { model: string }).model, 'claude-sonnet-5-5');
  });

  test("a failure names the configured provider: its message says which upstream failed", async () => {
    const providers = { vllm: { api: 'openai-chat' as const, baseURL: openaiWire.baseURL } };
    openaiWire.reply({ fixture: 'error-server.json', status: 500, headers: { 'x-should-retry': 'false' } });
    await assert.rejects(
      async () => resolveModel('vllm:llama-3.1-8b', { environment: {}, providers }).doGenerate(hello),
      (error: unknown) => {
        assert.ok(error instanceof KeelError);
        assert.equal(error.code, 'model-server-error');
        assert.match(error.message, /^vllm llama-3\.1-8b: /);
        return true;
      },
    );
  });

  test('a library caller may not configure a built-in name either', () => {
    assertConfigError(
      () => resolveModel('openai:gpt-4o', { environment: {}, providers: { openai: { api: 'openai-chat', baseURL: openaiWire.baseURL } } }),
      "provider 'openai' is built in; a configured provider may not take its name",
    );
    assertConfigError(() => resolveModel('groq:llama', { environment: {}, providers: {} }), "model 'groq:llama': unknown provider 'groq' (known: sim, openai, openai-responses, anthropic)");
  });
});
