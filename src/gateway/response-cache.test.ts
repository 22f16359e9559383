import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import type { JournalEvent } from '../journal/index.ts';
import { loadRun } from '../journal/index.ts';
import type { GenerateOptionsV1, GenerateResultV1, ResponseCacheStoreV1 } from '../spec/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from '../store/testing/index.ts';
import { openStore } from '../store/index.ts';
import type { Gateway } from './index.ts';
import { createGateway } from './index.ts';
import type { CacheableAnswer } from './response-cache.ts';
import { MemoryResponseCache, ResponseCache } from './response-cache.ts';
import type { TestGateway } from './testing/index.ts';
import { startTestGateway } from './testing/index.ts';

const options: GenerateOptionsV1 = { messages: [{ role: 'user', content: [{ type: 'text', text: 'Where is A-1001?' }] }], maxOutputTokens: 64 };
const asked = { tenant: 'acme', principal: 'user:ana', model: 'support', options };

function answer(text: string): GenerateResultV1 {
  return { content: [{ type: 'text', text }], finishReason: 'stop', usage: { inputTokens: 12, outputTokens: 5 }, response: { id: 'chatcmpl-1', modelId: 'sim-default' }, cost: { micros: 17, priceVersion: 'builtin' } };
}

describe('the response cache itself', () => {
  test('a key covers tenant, principal, model and every option that shapes the answer, and nothing else', () => {
    const cache = new ResponseCache({ models: ['support'], ttlMs: 1_000 });
    const key = cache.keyOf(asked);
    assert.match(key ?? '', /^[0-9a-f]{64}$/);
    assert.equal(cache.keyOf({ ...asked, options: { ...options, abortSignal: new AbortController().signal, headers: { 'x-trace': '1' } } }), key, 'a signal and headers do not change the answer');
    const others = [
      { ...asked, tenant: 'globex' },
      { ...asked, principal: 'user:bo' },
      { ...asked, options: { ...options, temperature: 0.7 } },
      { ...asked, options: { ...options, maxOutputTokens: 65 } },
      { ...asked, options: { ...options, messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Where is A-1002?' }] }] } },
      { ...asked, options: { ...options, tools: [{ name: 'lookup', description: 'd', inputSchema: { type: 'object' } }] } },
    ];
    const keys = new Set(others.map((other) => cache.keyOf(other)));
    assert.equal(keys.size, others.length);
    assert.ok(!keys.has(key));
    assert.equal(cache.keyOf({ ...asked, model: 'sim:default' }), undefined, 'a model the cache is not on for has no key');
  });

  test('an embeddings key covers tenant, principal, model, the values in order and the dimensions, and is never a conversation\'s', () => {
    const cache = new ResponseCache({ models: ['support'], ttlMs: 1_000 });
    const embedding = { tenant: 'acme', principal: 'user:ana', model: 'support', embed: { values: ['Where is A-1001?', 'Refund my order'], dimensions: 8 } };
    const key = cache.keyOf(embedding);
    assert.match(key ?? '', /^[0-9a-f]{64}$/);
    assert.equal(cache.keyOf({ ...embedding, embed: { ...embedding.embed, abortSignal: new AbortController().signal, headers: { 'x-trace': '1' } } }), key, 'a signal and headers do not change the vectors');
    const others = [
      { ...embedding, tenant: 'globex' },
      { ...embedding, principal: 'user:bo' },
      { ...embedding, embed: { values: embedding.embed.values } },
      { ...embedding, embed: { ...embedding.embed, dimensions: 16 } },
      { ...embedding, embed: { ...embedding.embed, values: ['Refund my order', 'Where is A-1001?'] } },
      { ...embedding, embed: { ...embedding.embed, values: ['Where is A-1001?'] } },
    ];
    const keys = new Set(others.map((other) => cache.keyOf(other)));
    assert.equal(keys.size, others.length);
    assert.ok(!keys.has(key));
    const conversation = { messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Where is A-1001?' }] }] };
    assert.notEqual(cache.keyOf({ ...asked, options: conversation }), cache.keyOf({ tenant: asked.tenant, principal: asked.principal, model: asked.model, embed: { values: ['Where is A-1001?'] } }));
    assert.equal(cache.keyOf({ ...embedding, model: 'sim:default' }), undefined, 'a model the cache is not on for has no key');
  });

  test('an answer is kept for ttlMs, handed out as a fresh copy without its cost, then forgotten', async () => {
    let now = 10_000;
    const memory = new MemoryResponseCache({ maxBytes: 1_000_000 });
    const cache = new ResponseCache({ models: ['support'], ttlMs: 1_000, now: () => now, store: memory });
    assert.equal(await cache.put('k', answer('In transit.'), 'run_1'), true);
    now += 999;
    const hit = await cache.get('k');
    assert.deepEqual(hit, { result: withoutCost(answer('In transit.')), runId: 'run_1', storedAt: 10_000 });
    (textOf(hit?.result) as { text: string }).text = 'changed by a caller';
    assert.equal((textOf((await cache.get('k'))?.result) as { text: string }).text, 'In transit.', 'no caller changes what another reads');
    now += 1;
    assert.equal(await cache.get('k'), undefined, 'expired at ttlMs');
    assert.equal(memory.size, 0);
    assert.equal(memory.bytes, 0);
  });

  test('in memory, past maxBytes the least recently used answer goes first; one over maxEntryBytes is not kept', async () => {
    const one = Buffer.byteLength(JSON.stringify(withoutCost(answer('a'.repeat(100)))));
    const memory = new MemoryResponseCache({ maxBytes: one * 2 });
    const cache = new ResponseCache({ models: ['support'], ttlMs: 60_000, maxBytes: one * 2, maxEntryBytes: one, store: memory });
    await cache.put('first', answer('a'.repeat(100)), 'run_1');
    await cache.put('second', answer('b'.repeat(100)), 'run_2');
    assert.ok((await cache.get('first')) !== undefined, 'used, so now the most recent');
    await cache.put('third', answer('c'.repeat(100)), 'run_3');
    const kept = [];
    for (const key of ['first', 'second', 'third']) kept.push((await cache.get(key))?.runId);
    assert.deepEqual(kept, ['run_1', undefined, 'run_3']);
    assert.equal(memory.bytes, one * 2);
    assert.equal(await cache.put('big', answer('d'.repeat(101)), 'run_4'), false);
    assert.equal(await cache.get('big'), undefined);
  });

  test('in memory, expired answers are dropped by a write once a minute, not only when read', async () => {
    const memory = new MemoryResponseCache({ maxBytes: 1_000_000 });
    const entry = (storedMs: number, ttlMs: number) => ({ text: 'x'.repeat(100), runId: `run_${storedMs}`, storedMs, expiresMs: storedMs + ttlMs });
    await memory.writeCachedResponse('short', entry(0, 1_000));
    await memory.writeCachedResponse('long', entry(1, 600_000));
    await memory.writeCachedResponse('soon', entry(30_000, 1_000));
    assert.equal(memory.size, 3, 'no sweep within the minute');
    await memory.writeCachedResponse('later', entry(60_000, 600_000));
    assert.equal(memory.size, 2, 'a minute on, the two expired entries are gone');
    assert.equal(memory.bytes, 200);
    assert.equal((await memory.readCachedResponse('long', 60_000))?.runId, 'run_1');
  });

  test('a store that fails is a miss and keeps nothing, said once in the log, and once when it works again', async () => {
    let broken = true;
    const memory = new MemoryResponseCache({ maxBytes: 1_000_000 });
    const flaky: ResponseCacheStoreV1 = {
      responseCacheSpecificationVersion: 'v1',
      readCachedResponse: (key, nowMs) => (broken ? Promise.reject(new Error('connection refused')) : memory.readCachedResponse(key, nowMs)),
      writeCachedResponse: (key, entry) => (broken ? Promise.reject(new Error('connection refused')) : memory.writeCachedResponse(key, entry)),
    };
    const lines: string[] = [];
    const cache = new ResponseCache({ models: ['support'], ttlMs: 60_000, store: flaky, log: (line) => lines.push(line) });
    assert.equal(await cache.put('k', answer('x'), 'run_1'), false);
    assert.equal(await cache.get('k'), undefined);
    assert.deepEqual(lines, ['keel gateway: the response cache could not write (connection refused): requests go to their models until it can']);
    broken = false;
    assert.equal(await cache.put('k', answer('x'), 'run_1'), true);
    assert.equal((await cache.get('k'))?.runId, 'run_1');
    assert.deepEqual(lines.slice(1), ['keel gateway: the response cache works again']);
  });
});

/** A kept answer's first content part; undefined for embeddings. */
function textOf(result: CacheableAnswer | undefined): unknown {
  return result === undefined || 'embeddings' in result ? undefined : result.content[0];
}

function withoutCost(result: GenerateResultV1): GenerateResultV1 {
  const { cost: _cost, ...rest } = result;
  return rest;
}

describe('the gateway with its cache on', () => {
  let served: TestGateway;
  const question = [{ role: 'user' as const, content: 'Where is my order A-1001?' }];

  before(async () => {
    served = await startTestGateway({
      config: { version: 1, routes: [{ name: 'support', models: ['sim:default'] }], gateway: { cache: { models: ['support'], ttlMs: 600_000 } } },
    });
  });
  after(async () => {
    await served.close();
  });

  function client(tenant: string, principal: string): OpenAI {
    return new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: { 'keel-tenant': tenant, 'keel-principal': principal } });
  }

  async function ask(as: OpenAI, model: string): Promise<{ text: string; runId: string; events: JournalEvent[] }> {
    const { data, response } = await as.chat.completions.create({ model, max_tokens: 64, messages: question }).withResponse();
    const runId = response.headers.get('keel-run-id') ?? '';
    await served.gateway.settled();
    const { events } = await loadRun(served.gateway.keel.store, runId);
    return { text: data.choices[0]?.message.content ?? '', runId, events };
  }

  const modelCalls = (events: JournalEvent[]) => events.filter((event) => event.type === 'model-attempt-end').length;
  const lookups = (events: JournalEvent[]) =>
    events.flatMap((event) => (event.type === 'step-end' && event.data.name === 'response-cache' && event.data.outcome.ok ? [event.data.outcome.value as { hit: boolean; fromRun?: string }] : []));

  test('the same request of the same tenant and principal is answered from the cache: no model call, no reservation, no cost, its run names the answer it reused', async () => {
    const ana = client('acme', 'user:ana');
    const first = await ask(ana, 'support');
    assert.equal(modelCalls(first.events), 1);
    assert.deepEqual(lookups(first.events), [{ hit: false }]);
    assert.ok((await served.run(first.runId)).costMicros > 0);

    const second = await ask(ana, 'support');
    assert.equal(second.text, first.text);
    assert.equal(modelCalls(second.events), 0, 'no model call');
    assert.equal(second.events.filter((event) => event.type === 'budget-decision').length, 0, 'nothing reserved');
    assert.deepEqual(
      lookups(second.events).map((lookup) => ({ hit: lookup.hit, fromRun: lookup.fromRun })),
      [{ hit: true, fromRun: first.runId }],
    );
    const run = await served.run(second.runId);
    assert.equal(run.status, 'ok');
    assert.equal(run.costMicros, 0);
    const ended = second.events.find((event) => event.type === 'run-end');
    assert.deepEqual((ended?.data as { output?: unknown }).output, { finishReason: 'stop', usage: { inputTokens: 0, outputTokens: 0 }, cachedFrom: first.runId });
  });

  test('another tenant or principal asking the same never reads it', async () => {
    for (const [tenant, principal] of [
      ['globex', 'user:ana'],
      ['acme', 'user:bo'],
    ] as const) {
      const other = await ask(client(tenant, principal), 'support');
      assert.equal(modelCalls(other.events), 1, `${tenant} ${principal} made its own call`);
      assert.deepEqual(lookups(other.events), [{ hit: false }]);
    }
  });

  test('a streamed request is answered from an answer kept whole, as a stream', async () => {
    const ana = client('acme', 'user:ana');
    const whole = await ask(ana, 'support');
    const { data: stream, response } = await ana.chat.completions.create({ model: 'support', max_tokens: 64, messages: question, stream: true }).withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, whole.text);
    await served.gateway.settled();
    const { events } = await loadRun(served.gateway.keel.store, response.headers.get('keel-run-id') ?? '');
    assert.equal(modelCalls(events), 0);
    assert.equal(lookups(events)[0]?.hit, true);
  });

  /** Embeddings of `input` as `as` asks for them, with the run that answered and its journal. */
  async function embed(as: OpenAI, input: string[], more: { model?: string; dimensions?: number; encoding_format?: 'float' | 'base64' } = {}): Promise<{ vectors: number[][]; runId: string; events: JournalEvent[] }> {
    const { data, response } = await as.embeddings.create({ model: 'support', input, ...more }).withResponse();
    const runId = response.headers.get('keel-run-id') ?? '';
    await served.gateway.settled();
    const { events } = await loadRun(served.gateway.keel.store, runId);
    return { vectors: data.data.map((item) => item.embedding), runId, events };
  }

  test('the same embeddings request of the same tenant and principal is answered from the cache: the same vectors, no model call, no reservation, no cost, its run names the answer it reused', async () => {
    const ana = client('acme', 'user:ana');
    const input = ['Where is parcel P-77?', 'Cancel order A-2002'];
    const first = await embed(ana, input, { encoding_format: 'float' });
    assert.equal(modelCalls(first.events), 1);
    assert.deepEqual(lookups(first.events), [{ hit: false }]);
    assert.ok((await served.run(first.runId)).costMicros > 0);

    const second = await embed(ana, input, { encoding_format: 'float' });
    assert.deepEqual(second.vectors, first.vectors);
    assert.equal(modelCalls(second.events), 0, 'no model call');
    assert.equal(second.events.filter((event) => event.type === 'budget-decision').length, 0, 'nothing reserved');
    assert.deepEqual(
      lookups(second.events).map((lookup) => ({ hit: lookup.hit, fromRun: lookup.fromRun })),
      [{ hit: true, fromRun: first.runId }],
    );
    const run = await served.run(second.runId);
    assert.equal(run.status, 'ok');
    assert.equal(run.costMicros, 0);
    assert.equal(run.inputTokens, 0);
    const ended = second.events.find((event) => event.type === 'run-end');
    assert.deepEqual((ended?.data as { output?: unknown }).output, { embeddings: 2, usage: { inputTokens: 0, outputTokens: 0 }, cachedFrom: first.runId });

    // The kept vectors are numbers; base64 (the openai client's default) is how they travel, not another answer.
    const encoded = await embed(ana, input);
    assert.equal(modelCalls(encoded.events), 0);
    assert.deepEqual(encoded.vectors, first.vectors.map((vector) => vector.map((value) => Math.fround(value))), 'the same vectors, at float32 as base64 carries them');
  });

  test('embeddings of another tenant or principal, or of other dimensions or values, are misses', async () => {
    const input = ['Is A-3003 refundable?'];
    const kept = await embed(client('acme', 'user:ana'), input, { dimensions: 16 });
    assert.equal(modelCalls(kept.events), 1);
    for (const [as, more, what] of [
      [client('globex', 'user:ana'), { dimensions: 16 }, 'another tenant'],
      [client('acme', 'user:bo'), { dimensions: 16 }, 'another principal'],
      [client('acme', 'user:ana'), { dimensions: 8 }, 'other dimensions'],
      [client('acme', 'user:ana'), {}, 'no dimensions'],
    ] as const) {
      const other = await embed(as, input, more);
      assert.equal(modelCalls(other.events), 1, `${what}: its own call`);
      assert.deepEqual(lookups(other.events), [{ hit: false }], what);
    }
    const more = await embed(client('acme', 'user:ana'), [...input, 'and A-3004?'], { dimensions: 16 });
    assert.equal(modelCalls(more.events), 1, 'other values: its own call');
  });

  test('a model the cache is not on for calls its model every time, with no lookup', async () => {
    const ana = client('acme', 'user:ana');
    for (let index = 0; index < 2; index += 1) {
      const direct = await ask(ana, 'sim:default');
      assert.equal(modelCalls(direct.events), 1);
      assert.deepEqual(lookups(direct.events), []);
      const embedded = await embed(ana, ['Where is A-1001?'], { model: 'sim:default' });
      assert.equal(modelCalls(embedded.events), 1);
      assert.deepEqual(lookups(embedded.events), []);
    }
  });
});

test('without gateway.cache every request calls its model', async () => {
  const served = await startTestGateway({ config: { version: 1, routes: [{ name: 'support', models: ['sim:default'] }] } });
  try {
    const headers = { 'content-type': 'application/json', 'keel-tenant': 'acme' };
    const body = JSON.stringify({ model: 'support', messages: [{ role: 'user', content: 'Hello' }] });
    for (let index = 0; index < 2; index += 1) {
      const response = await fetch(`${served.url}/v1/chat/completions`, { method: 'POST', headers, body });
      assert.equal(response.status, 200);
      await response.text();
      const { events } = await loadRun(served.gateway.keel.store, response.headers.get('keel-run-id') ?? '');
      assert.equal(events.filter((event) => event.type === 'model-attempt-end').length, 1);
      assert.equal(events.filter((event) => event.type === 'step-start' && event.data.name === 'response-cache').length, 0);
    }
  } finally {
    await served.close();
  }
});

test('a cache naming a model that is neither a route nor provider:model is refused before anything is opened', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-cache-refused-'));
  const never = join(folder, 'never.db');
  await assert.rejects(
    createGateway({ database: never, environment: {}, config: { version: 1, routes: [{ name: 'support', models: ['sim:default'] }], gateway: { cache: { models: ['suport'], ttlMs: 1_000 } } } }),
    { code: 'config-invalid', message: "gateway.cache.models names 'suport', neither a route of the config (support) nor a provider:model name" },
  );
  await assert.rejects(createGateway({ database: never, environment: {}, config: { version: 1, routes: [], gateway: { cache: { models: ['sim:default'], ttlMs: 0 } } } }), /gateway\.cache\.ttlMs: must be ≥ 1/);
  assert.equal(existsSync(never), false, 'no database was made');
  rmSync(folder, { recursive: true, force: true });
});

describe('a cache shared through the store', () => {
  const config = { version: 1 as const, routes: [{ name: 'support', models: ['sim:default'] }], gateway: { cache: { models: ['support'], ttlMs: 600_000, shared: true } } };
  const body = JSON.stringify({ model: 'support', max_tokens: 64, messages: [{ role: 'user', content: 'Where is my order A-1001?' }] });
  const headers = { 'content-type': 'application/json', 'keel-tenant': 'acme', 'keel-principal': 'user:ana' };

  async function askEach(first: Gateway, second: Gateway): Promise<void> {
    const asked = await first.request('/v1/chat/completions', { method: 'POST', headers, body });
    assert.equal(asked.status, 200, await asked.clone().text());
    const answered = (await asked.json()) as { choices: { message: { content: string } }[] };
    const firstRun = asked.headers.get('keel-run-id') ?? '';
    // Another gateway process on the same store: it never saw the first request.
    const again = await second.request('/v1/chat/completions', { method: 'POST', headers, body });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content, answered.choices[0]?.message.content);
    const { events } = await loadRun(second.keel.store, again.headers.get('keel-run-id') ?? '');
    assert.equal(events.filter((event) => event.type === 'model-attempt-end').length, 0, 'no model call');
    const lookup = events.find((event) => event.type === 'step-end' && event.data.name === 'response-cache');
    assert.deepEqual(lookup?.type === 'step-end' && lookup.data.outcome.ok ? (lookup.data.outcome.value as { fromRun?: string }).fromRun : undefined, firstRun);
  }

  test('sqlite: a second gateway on the same file answers from the first one\'s answer', async () => {
    const database = join(mkdtempSync(join(tmpdir(), 'keel-shared-cache-')), 'keel.db');
    const first = await createGateway({ database, environment: {}, config });
    const second = await createGateway({ database, environment: {}, config });
    try {
      await askEach(first, second);
    } finally {
      await first.close();
      await second.close();
      rmSync(dirname(database), { recursive: true, force: true });
    }
  });

  test('postgres: a second gateway on the same schema answers from the first one\'s answer', async (t) => {
    const found = await openTestPostgres();
    if ('skipReason' in found) return t.skip(found.skipReason);
    const schema = uniqueSchemaName('shared_cache');
    const environment = { KEEL_PG_SCHEMA: schema };
    const first = await createGateway({ database: found.url, environment, config });
    const second = await createGateway({ database: found.url, environment, config });
    try {
      await askEach(first, second);
    } finally {
      await first.close();
      await second.close();
      await dropSchema(found.url, schema);
    }
  });

  test('shared on a store that keeps no response cache is refused, and the deployment is closed', async () => {
    const store = await openStore({ database: join(mkdtempSync(join(tmpdir(), 'keel-no-cache-')), 'keel.db'), create: true, environment: {} });
    const without = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'responseCache') return undefined;
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...parts: unknown[]) => unknown).bind(target) : value;
      },
    });
    try {
      await assert.rejects(createGateway({ store: without, environment: {}, config }), { code: 'config-invalid', message: /gateway\.cache\.shared asks for the store's response cache, and the store at .* keeps none/ });
    } finally {
      await store.close();
    }
  });
});
