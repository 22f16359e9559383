import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { PostgresStore } from '../store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from '../store/testing/index.ts';
import type { Gateway } from './gateway.ts';
import { createGateway } from './gateway.ts';
import type { ListeningGateway } from './listen-gateway.ts';
import { listenGateway } from './listen-gateway.ts';
import { createVirtualKey } from './virtual-keys.ts';

// Two gateways on one PostgreSQL schema, each with its own connection pool, as two processes
// would be: a key's budget, its requests per minute and its revocation hold across both.
const database = await openTestPostgres();
const skip = 'skipReason' in database ? database.skipReason : false;
const url = 'url' in database ? database.url : '';
const schema = uniqueSchemaName('keel_gateway_keys');
const stores: PostgresStore[] = [];
const gateways: { gateway: Gateway; listening: ListeningGateway; client: (apiKey: string) => OpenAI }[] = [];

before(async () => {
  if (skip !== false) return;
  for (let index = 0; index < 2; index += 1) {
    const store = await PostgresStore.open({ url, schema });
    stores.push(store);
    const gateway = await createGateway({ store, environment: {}, config: { version: 1, routes: [{ name: 'support', models: ['sim:default'] }] } });
    const listening = await listenGateway(gateway, { port: 0, host: '127.0.0.1' });
    gateways.push({ gateway, listening, client: (apiKey) => new OpenAI({ baseURL: `${listening.url}/v1`, apiKey, maxRetries: 0 }) });
  }
});

after(async () => {
  for (const { listening } of gateways) await listening.close();
  for (const store of stores) await store.close();
  if (skip === false) await dropSchema(url, schema);
});

const hello = [{ role: 'user' as const, content: 'Hello, gateway' }];

function keys() {
  const store = stores[0]?.keys;
  assert.ok(store !== undefined);
  return store;
}

function pick(index: number) {
  const served = gateways[index % 2];
  assert.ok(served !== undefined);
  return served;
}

test('a key\'s daily budget is spent from one book by both gateways, and the ledger equals their journals', { skip }, async () => {
  const { secret, key } = await createVirtualKey(keys(), { tenant: 'acme', principal: 'svc', settings: { models: [], budget: { micros: 500, per: 'day' } } });
  const runIds: string[] = [];
  let stop: unknown;
  for (let call = 0; call < 30 && stop === undefined; call += 1) {
    try {
      const { response } = await pick(call).client(secret).chat.completions.create({ model: 'support', max_tokens: 48, messages: hello }).withResponse();
      runIds.push(response.headers.get('keel-run-id') ?? '');
    } catch (error) {
      stop = error;
    }
  }
  assert.ok(stop instanceof OpenAI.RateLimitError && stop.code === 'budget_exceeded', String(stop));
  assert.ok(runIds.length >= 3, `calls through both gateways fit (${runIds.length})`);
  // The other gateway refuses too: the book is one.
  const other = await pick(runIds.length + 1).client(secret).chat.completions.create({ model: 'support', max_tokens: 48, messages: hello }).catch((caught: unknown) => caught);
  assert.ok(other instanceof OpenAI.RateLimitError && other.code === 'budget_exceeded', String(other));
  let journaled = 0;
  for (const runId of runIds) journaled += (await stores[0]?.getRun(runId))?.costMicros ?? 0;
  const account = await stores[1]?.budgets.readBudget(`key:${key.keyId}:day:${new Date().toISOString().slice(0, 10)}`);
  assert.equal(account?.spent.micros, journaled);
  assert.equal(account?.reserved.micros, 0);
  assert.ok(journaled > 0 && journaled <= 500, `spent ${journaled} of 500`);
});

test('a key\'s requests per minute are counted across both gateways; a revocation through one store holds on the other', { skip }, async () => {
  const { secret, key } = await createVirtualKey(keys(), { tenant: 'acme', principal: 'svc', settings: { models: [], rpm: 3 } });
  for (let call = 0; call < 3; call += 1) await pick(call).client(secret).chat.completions.create({ model: 'support', messages: hello });
  for (const index of [0, 1]) {
    const error = await pick(index).client(secret).chat.completions.create({ model: 'support', messages: hello }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OpenAI.RateLimitError && error.type === 'rate_limit_error', String(error));
    assert.ok(Number(error.headers?.get('retry-after')) >= 1);
  }
  await stores[1]?.keys.revokeKey(key.keyId, new Date().toISOString());
  for (const index of [0, 1]) {
    const error = await pick(index).client(secret).models.list().catch((caught: unknown) => caught);
    assert.ok(error instanceof OpenAI.AuthenticationError, String(error));
  }
});
