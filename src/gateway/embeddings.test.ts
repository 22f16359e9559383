import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { loadRun } from '../journal/index.ts';
import { OpenAIWireServer } from '../models/testing/index.ts';
import type { TestGateway } from './testing/index.ts';
import { simDefaultCost, startTestGateway } from './testing/index.ts';

describe('POST /v1/embeddings with the official openai client', () => {
  let served: TestGateway;
  let client: OpenAI;
  before(async () => {
    served = await startTestGateway();
    client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'keel-tenant': 'acme' } });
  });
  after(async () => {
    await served.close();
  });

  test('each input gets its vector, in order, the same text the same vector; the run is journaled, reserved before the call and billed its input tokens', async () => {
    // The client's default asks for base64 and decodes it: what most SDK users get.
    const { data, response } = await client.embeddings.create({ model: 'sim:default', input: ['Where is A-1001?', 'Refund my order', 'Where is A-1001?'] }).withResponse();
    assert.deepEqual(
      data.data.map((item) => [item.object, item.index, item.embedding.length]),
      [
        ['embedding', 0, 64],
        ['embedding', 1, 64],
        ['embedding', 2, 64],
      ],
    );
    const [first, second, third] = data.data.map((item) => item.embedding);
    assert.deepEqual(third, first, 'the same text, the same vector');
    assert.notDeepEqual(second, first);
    assert.ok(Math.abs(Math.hypot(...(first ?? [])) - 1) < 1e-5, 'unit length, within float32');
    assert.equal(data.model, 'sim:default');

    const runId = response.headers.get('keel-run-id') ?? '';
    const run = await served.run(runId);
    assert.equal(run.status, 'ok');
    assert.equal(data.usage.prompt_tokens, run.inputTokens);
    assert.equal(run.outputTokens, 0);
    assert.equal(run.costMicros, simDefaultCost({ inputTokens: run.inputTokens, outputTokens: 0 }));
    const { events } = await loadRun(served.gateway.keel.store, runId);
    const reserved = events.findIndex((event) => event.type === 'budget-decision' && event.data.outcome === 'reserved');
    const attempted = events.findIndex((event) => event.type === 'model-attempt-end');
    assert.ok(reserved !== -1 && reserved < attempted, 'the budget is reserved before the call');
    const request = events.find((event) => event.type === 'request-receive');
    assert.deepEqual(request?.type === 'request-receive' ? [request.data.api, request.data.model] : [], ['openai.embeddings', 'sim:default']);
  });

  test('encoding_format float and dimensions: floats as sent, of the length asked for', async () => {
    const floats = await client.embeddings.create({ model: 'sim:default', input: 'Where is A-1001?', encoding_format: 'float', dimensions: 8 });
    assert.equal(floats.data[0]?.embedding.length, 8);
    const raw = await fetch(`${served.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', 'keel-tenant': 'acme' }, body: JSON.stringify({ model: 'sim:default', input: 'Where is A-1001?', dimensions: 8 }) });
    const body = (await raw.json()) as { data: { embedding: number[] }[] };
    assert.deepEqual(body.data[0]?.embedding, floats.data[0]?.embedding, 'float is the default on the wire');
    assert.ok(body.data[0]?.embedding.every((value) => typeof value === 'number'));
  });

  test('bad requests are 400s in OpenAI\'s shape; a model that makes no embeddings is a 400 too', async () => {
    const cases: [unknown, RegExp][] = [
      [{ model: 'sim:default', input: [1, 2, 3] }, /input\[0\]/],
      [{ model: 'sim:default', input: '' }, /empty string/],
      [{ model: 'sim:default', input: [] }, /input/],
      [{ model: 'sim:default', input: 'x', dimensions: 0 }, /dimensions/],
      [{ model: 'sim:default', input: 'x', encoding: 'float' }, /encoding/],
    ];
    for (const [body, message] of cases) {
      const caught = await client.embeddings.create(body as OpenAI.EmbeddingCreateParams).catch((error: unknown) => error);
      assert.ok(caught instanceof OpenAI.BadRequestError, `${JSON.stringify(body)}: ${String(caught)}`);
      assert.match(caught.message, message);
    }
    const anthropic = await startTestGateway({ environment: { ANTHROPIC_API_KEY: 'not-used' } });
    try {
      const refused = await new OpenAI({ baseURL: `${anthropic.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'keel-tenant': 'acme' } }).embeddings
        .create({ model: 'anthropic:claude-haiku-4-5', input: 'hello' })
        .catch((error: unknown) => error);
      assert.ok(refused instanceof OpenAI.BadRequestError, String(refused));
      assert.match(refused.message, /anthropic:claude-haiku-4-5 makes no embeddings/);
    } finally {
      await anthropic.close();
    }
  });
});

describe('embeddings from a simulated model whose fault plan fails them', () => {
  // One attempt, so each test's fault decides the outcome; the timeout is the route's own, per attempt.
  const config = { version: 1 as const, routes: [{ name: 'vectors', models: ['sim:default'], resilience: { maxAttempts: 1, attemptTimeoutMs: 100 } }] };
  const send = (served: TestGateway) =>
    fetch(`${served.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', 'keel-tenant': 'acme' }, body: JSON.stringify({ model: 'vectors', input: ['Where is A-1001?'] }) });

  /** The failed run a response names, with its journaled fault and attempt. */
  async function failedRun(served: TestGateway, response: Response) {
    await served.gateway.settled();
    const runId = response.headers.get('keel-run-id');
    const run = await served.run(runId);
    const { events } = await loadRun(served.gateway.keel.store, run.id);
    const injected = events.find((event) => event.type === 'fault-injection');
    const attempt = events.find((event) => event.type === 'model-attempt-end');
    return { run, injected: injected?.type === 'fault-injection' ? injected.data.fault : undefined, attempt: attempt?.type === 'model-attempt-end' ? attempt.data.error?.code : undefined };
  }

  test('a hang is cut by the route\'s attempt timeout: a 504 in OpenAI\'s shape, and the run ends failed saying so', async () => {
    const served = await startTestGateway({ config, simulator: { faults: [{ on: { afterCall: 0 }, fault: { type: 'timeout' } }] } });
    try {
      const response = await send(served);
      assert.equal(response.status, 504);
      const body = (await response.json()) as { error: { type: string; message: string } };
      assert.equal(body.error.type, 'server_error');
      assert.match(body.error.message, /sim:default: no answer within the 100 ms attempt timeout/);
      const { run, injected, attempt } = await failedRun(served, response);
      assert.equal(run.status, 'failed');
      assert.match(run.reason ?? '', /route vectors: every model failed; last: sim:default: no answer within the 100 ms attempt timeout/);
      assert.deepEqual(injected, { type: 'timeout' }, 'the fault is journaled');
      assert.equal(attempt, 'model-timeout');
    } finally {
      await served.close();
    }
  });

  test('an error status is the provider error\'s shape: a 502 for a server error, a 429 for a rate limit; the run ends failed with the reason', async () => {
    for (const [fault, status, type, reason] of [
      [{ type: 'server-error', status: 500 }, 502, 'server_error', /sim:default answered HTTP 500 \(injected fault\)/],
      [{ type: 'rate-limit', retryAfterMs: 2_000 }, 429, 'rate_limit_error', /sim:default answered HTTP 429, retry after 2000 ms \(injected fault\)/],
    ] as const) {
      const served = await startTestGateway({ config, simulator: { faults: [{ on: { afterCall: 0 }, fault }] } });
      try {
        const response = await send(served);
        assert.equal(response.status, status, fault.type);
        const body = (await response.json()) as { error: { type: string; message: string } };
        assert.equal(body.error.type, type);
        assert.match(body.error.message, reason);
        const { run, injected } = await failedRun(served, response);
        assert.equal(run.status, 'failed');
        assert.match(run.reason ?? '', reason);
        assert.deepEqual(injected, fault, 'the fault is journaled');
      } finally {
        await served.close();
      }
    }
  });
});

test('a model or route that makes no embeddings is a 400 before a run is opened or a budget reserved; a route with one that does reserves for that one only', async () => {
  const config = {
    version: 1 as const,
    routes: [
      { name: 'chat-only', models: ['anthropic:claude-haiku-4-5', 'anthropic:claude-sonnet-4-5'] },
      // Its first model makes no embeddings: an embeddings call must not be planned on it at all.
      { name: 'mixed', models: ['anthropic:claude-haiku-4-5', 'sim:default'] },
    ],
    budgets: [{ scope: 'tenant' as const, micros: 1_000_000_000 }],
  };
  const served = await startTestGateway({ config, environment: { ANTHROPIC_API_KEY: 'not-used' } });
  const store = served.gateway.keel.store;
  const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'keel-tenant': 'acme' } });
  try {
    for (const [model, message] of [
      ['anthropic:claude-haiku-4-5', /^400 anthropic:claude-haiku-4-5 makes no embeddings$/],
      ['chat-only', /route chat-only: none of its models \(anthropic:claude-haiku-4-5, anthropic:claude-sonnet-4-5\) makes embeddings/],
    ] as const) {
      const refused = await client.embeddings.create({ model, input: 'hello' }).withResponse().catch((error: unknown) => error);
      assert.ok(refused instanceof OpenAI.BadRequestError, String(refused));
      assert.match(refused.message, message);
      assert.equal(refused.code, 'model_unsupported');
      assert.equal(refused.param, 'model');
      assert.equal(refused.headers.get('keel-run-id'), null, `${model}: no run is opened`);
    }
    assert.deepEqual(await store.listRuns({ limit: 100 }), [], 'no run, so no reservation journaled');
    assert.deepEqual(await store.budgets?.readBudget('tenant:acme'), { spent: { micros: 0, tokens: 0 }, reserved: { micros: 0, tokens: 0 } }, 'the ledger is untouched');

    const { response } = await client.embeddings.create({ model: 'mixed', input: 'hello' }).withResponse();
    const runId = response.headers.get('keel-run-id') ?? '';
    assert.equal((await served.run(runId)).status, 'ok');
    const { events } = await loadRun(store, runId);
    const decided = events.flatMap((event) => (event.type === 'budget-decision' ? [`${event.data.outcome} ${event.data.provider}:${event.data.modelId}`] : []));
    assert.deepEqual(decided, ['reserved sim:default'], 'reserved once, for the model that embeds');
    const routed = events.find((event) => event.type === 'route-decision');
    assert.deepEqual(routed?.type === 'route-decision' ? [routed.data.provider, routed.data.modelId] : [], ['sim', 'default']);
    assert.equal(events.filter((event) => event.type === 'model-fallback' || event.type === 'model-attempt-end').length, 1, 'one attempt, no fallback');
  } finally {
    await served.close();
  }
});

test('an OpenAI embeddings model is called on its wire: floats asked for, vectors put back in input order; a route pinning it asks for the pinned version', async () => {
  const wire = await OpenAIWireServer.start();
  const config = { version: 1 as const, routes: [{ name: 'vectors', models: ['openai:text-embedding-3-small'], pin: { 'openai:text-embedding-3-small': 'text-embedding-3-small-2025-01-01' } }] };
  const served = await startTestGateway({ config, environment: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: wire.baseURL } });
  try {
    wire.reply({ fixture: 'embeddings.json' });
    const answer = await new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'keel-tenant': 'acme' } }).embeddings.create({
      model: 'openai:text-embedding-3-small',
      input: ['first', 'second'],
      dimensions: 3,
    });
    assert.deepEqual(
      answer.data.map((item) => item.embedding),
      [
        [-0.0625, 1, 0.75],
        [0.5, -0.25, 0.125],
      ],
    );
    assert.equal(answer.usage.prompt_tokens, 9);
    const sent = wire.requests.at(-1);
    assert.equal(sent?.path, '/v1/embeddings');
    assert.deepEqual(sent?.body, { model: 'text-embedding-3-small', input: ['first', 'second'], encoding_format: 'float', dimensions: 3 });

    wire.reply({ fixture: 'embeddings.json' });
    const pinned = await new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'keel-tenant': 'acme' } }).embeddings.create({ model: 'vectors', input: ['first', 'second'] });
    assert.equal(pinned.data.length, 2);
    assert.equal((wire.requests.at(-1)?.body as { model?: string } | undefined)?.model, 'text-embedding-3-small-2025-01-01');
  } finally {
    await served.close();
    await wire.close();
  }
});
