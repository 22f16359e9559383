import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { CedarPolicyEngine } from '../access/index.ts';
import type { JournalEvent } from '../journal/index.ts';
import { loadRun } from '../journal/index.ts';
import type { KeySettingsV1 } from '../spec/index.ts';
import { SqliteStore } from '../store/index.ts';
import type { TestGateway } from './testing/index.ts';
import { startTestGateway } from './testing/index.ts';
import { createGateway } from './gateway.ts';
import { listenGateway } from './listen-gateway.ts';
import { createVirtualKey } from './virtual-keys.ts';
import { keyModelPolicies, modelCallRequest } from './key-policy.ts';
import { loadGatewayPolicies } from './gateway-policies.ts';

// Virtual keys with the official clients against a real gateway on a loopback port. Once the store
// holds a key, every request needs one.
let served: TestGateway;

before(async () => {
  served = await startTestGateway({ config: { version: 1, routes: [{ name: 'support', models: ['sim:default'] }] } });
});
after(() => served.close());

async function newKey(settings: Partial<KeySettingsV1> = {}, tenant = 'acme', principal = 'svc-support') {
  const keys = served.gateway.keel.store.keys;
  assert.ok(keys !== undefined);
  return createVirtualKey(keys, { tenant, principal, settings: { models: [], ...settings } });
}

function openai(apiKey: string, headers: Record<string, string> = {}): OpenAI {
  return new OpenAI({ baseURL: `${served.url}/v1`, apiKey, maxRetries: 0, defaultHeaders: headers });
}

function anthropic(apiKey: string): Anthropic {
  return new Anthropic({ baseURL: served.url, apiKey, maxRetries: 0 });
}

async function journal(runId: string | null | undefined): Promise<readonly JournalEvent[]> {
  assert.ok(typeof runId === 'string', 'the response names its run');
  return (await loadRun(served.gateway.keel.store, runId)).events;
}

const hello = [{ role: 'user' as const, content: 'Hello, gateway' }];

describe('virtual keys', () => {
  test('a key sent as the client\'s API key names the run\'s tenant and principal, whatever the identity headers say', async () => {
    const { secret, key } = await newKey();
    assert.match(secret, /^keel_[A-Za-z0-9_-]{43}$/);
    assert.match(key.keyId, /^key_[0-9a-f]{12}$/);
    const { response } = await openai(secret, { 'keel-tenant': 'someone-else', 'keel-principal': 'mallory' })
      .chat.completions.create({ model: 'support', messages: hello })
      .withResponse();
    const run = await served.run(response.headers.get('keel-run-id'));
    assert.equal(run.tenant, 'acme');
    assert.equal(run.principal, 'svc-support');
    const received = (await journal(run.id)).find((event) => event.type === 'request-receive');
    assert.deepEqual(received?.data, { api: 'openai.chat.completions', model: 'support', stream: false, principal: 'svc-support', key: key.keyId });

    const message = await anthropic(secret).messages.create({ model: 'support', max_tokens: 64, messages: hello });
    assert.equal(message.content[0]?.type, 'text');
  });

  test('a missing, unknown or revoked key is a 401 in each API\'s shape, and opens no run', async () => {
    const { secret, key } = await newKey();
    const keys = served.gateway.keel.store.keys;
    assert.ok(keys !== undefined);
    await keys.revokeKey(key.keyId, new Date().toISOString());
    const runsBefore = (await served.gateway.keel.store.listRuns({ limit: 10_000 })).length;
    for (const apiKey of [secret, 'keel_not-a-key-of-this-gateway', 'sk-anything']) {
      const error = await openai(apiKey).chat.completions.create({ model: 'support', messages: hello }).catch((caught: unknown) => caught);
      assert.ok(error instanceof OpenAI.AuthenticationError, String(error));
      assert.equal(error.code, 'invalid_api_key');
      const refused = await anthropic(apiKey).messages.create({ model: 'support', max_tokens: 64, messages: hello }).catch((caught: unknown) => caught);
      assert.ok(refused instanceof Anthropic.AuthenticationError, String(refused));
    }
    const revoked = await openai(secret).models.list().catch((caught: unknown) => caught);
    assert.ok(revoked instanceof OpenAI.AuthenticationError);
    assert.match(revoked.message, new RegExp(`key ${key.keyId} was revoked`));
    const bare = await fetch(`${served.url}/v1/models`);
    assert.equal(bare.status, 401);
    assert.deepEqual(((await bare.json()) as { error: { code: string } }).error.code, 'invalid_api_key');
    // The key is checked before the body is read: a body that is not even JSON is still a 401.
    const unread = await fetch(`${served.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': 'keel_wrong', 'content-type': 'application/json' }, body: 'not json' });
    assert.equal(unread.status, 401);
    assert.deepEqual(await unread.json(), { type: 'error', error: { type: 'authentication_error', message: 'the key is not a Keel key of this gateway' }, request_id: null });
    assert.equal((await served.gateway.keel.store.listRuns({ limit: 10_000 })).length, runsBefore);
  });

  test('a key works until its expiry and is refused from it on, in each API\'s shape, opening no run; an expiry must be ISO-8601 and to come', async () => {
    const keys = served.gateway.keel.store.keys;
    assert.ok(keys !== undefined);
    const live = await newKey({ expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    assert.equal((await openai(live.secret).chat.completions.create({ model: 'support', messages: hello })).choices.length, 1, 'a key to expire in an hour works');
    // Made an hour ago, to expire a minute ago: expired now, without waiting for it.
    const hourAgo = new Date(Date.now() - 3_600_000);
    const expiresAt = new Date(Date.now() - 60_000).toISOString();
    const lapsed = await createVirtualKey(keys, { tenant: 'acme', principal: 'svc-support', settings: { models: [], expiresAt } }, hourAgo);
    const runsBefore = (await served.gateway.keel.store.listRuns({ limit: 10_000 })).length;
    const refused = await openai(lapsed.secret).chat.completions.create({ model: 'support', messages: hello }).catch((caught: unknown) => caught);
    assert.ok(refused instanceof OpenAI.AuthenticationError, String(refused));
    assert.match(refused.message, new RegExp(`key ${lapsed.key.keyId} expired at ${expiresAt}`));
    const anthropicRefused = await anthropic(lapsed.secret).messages.create({ model: 'support', max_tokens: 64, messages: hello }).catch((caught: unknown) => caught);
    assert.ok(anthropicRefused instanceof Anthropic.AuthenticationError, String(anthropicRefused));
    assert.equal((await served.gateway.keel.store.listRuns({ limit: 10_000 })).length, runsBefore, 'no run was opened');
    await assert.rejects(newKey({ expiresAt: new Date(Date.now() - 1_000).toISOString() }), { code: 'usage-invalid', message: /key expiresAt .* has already passed/ });
    await assert.rejects(newKey({ expiresAt: '2030-01-01' }), { code: 'usage-invalid', message: /key expiresAt must be an ISO-8601 UTC time such as 2027-01-31T00:00:00\.000Z, got "2030-01-01"/ });
  });

  test('a model outside the key\'s list is refused by Cedar: a 403 for both clients, the decision journaled', async () => {
    const { secret, key } = await newKey({ models: ['support'] });
    await openai(secret).chat.completions.create({ model: 'support', messages: hello });
    const error = await openai(secret).chat.completions.create({ model: 'sim:default', messages: hello }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OpenAI.PermissionDeniedError, String(error));
    assert.equal(error.code, 'policy_denied');
    assert.match(error.message, new RegExp(`with key ${key.keyId} may not call model sim:default`));
    const events = await journal(error.headers?.get('keel-run-id'));
    const decision = events.find((event) => event.type === 'policy-decision');
    assert.equal(decision?.data.effect, 'not-applicable');
    assert.equal(decision?.data.engine, 'cedar');
    assert.equal(decision?.data.resource, 'Model::sim:default');
    assert.ok(!events.some((event) => event.type === 'step-start'), 'no model step ran');

    const refused = await anthropic(secret).messages.create({ model: 'sim:default', max_tokens: 64, messages: hello }).catch((caught: unknown) => caught);
    assert.ok(refused instanceof Anthropic.PermissionDeniedError, String(refused));
    const allowed = (await journal((await openai(secret).chat.completions.create({ model: 'support', messages: hello }).withResponse()).response.headers.get('keel-run-id'))).find(
      (event) => event.type === 'policy-decision',
    );
    assert.deepEqual(allowed?.data.policyIds, ['key-models']);
  });

  test('the gateway\'s key policy decides as policies/gateway-keys.cedar does under the repository\'s schema', async () => {
    const repository = await CedarPolicyEngine.load(fileURLToPath(new URL('../../policies/', import.meta.url)));
    const builtIn = keyModelPolicies();
    const target = { name: 'support', route: true };
    for (const models of [['support'], ['other'], []]) {
      const { key } = await newKey({ models });
      const request = modelCallRequest({ principal: 'svc-support', tenant: 'acme', key }, target, 'gateway:support');
      const expected = repository.decide(request);
      const decided = builtIn.decide(request);
      assert.deepEqual([decided.effect, decided.policyIds], [expected.effect, expected.policyIds], `models ${models.join(',')}`);
    }
  });

  test('the repository\'s policies/ load as a deployment\'s set for the gateway: its schema takes the call-model request with a key and without', async () => {
    const repository = await loadGatewayPolicies(fileURLToPath(new URL('../../policies/', import.meta.url)));
    const target = { name: 'support', route: true };
    const { key } = await newKey({ models: ['support'] });
    assert.deepEqual(repository.decide(modelCallRequest({ principal: 'svc-support', tenant: 'acme', key }, target, 'gateway:support')).policyIds, ['key-models']);
    // No permit there applies without a key: Cedar's default, a deny the gateway answers 403.
    assert.equal(repository.decide(modelCallRequest({ principal: 'svc-support', tenant: 'acme' }, target, 'gateway:support')).effect, 'not-applicable');
  });

  test('a key\'s daily budget stops calls with a 429 (OpenAI) or 402 (Anthropic), and the ledger equals the journals', async () => {
    const { secret, key } = await newKey({ budget: { micros: 400, per: 'day' } });
    const client = openai(secret);
    const runIds: string[] = [];
    let stop: unknown;
    for (let call = 0; call < 20 && stop === undefined; call += 1) {
      try {
        const { response } = await client.chat.completions.create({ model: 'support', max_tokens: 48, messages: hello }).withResponse();
        runIds.push(response.headers.get('keel-run-id') ?? '');
      } catch (error) {
        stop = error;
      }
    }
    assert.ok(runIds.length >= 2, `several calls fit in the budget (${runIds.length})`);
    assert.ok(stop instanceof OpenAI.RateLimitError, String(stop));
    assert.equal(stop.type, 'insufficient_quota');
    assert.equal(stop.code, 'budget_exceeded');
    const day = new Date().toISOString().slice(0, 10);
    const scope = `key:${key.keyId}:day:${day}`;
    assert.match(stop.message, new RegExp(`${scope} has \\d+ of 400 micro-USD left`));
    const refused = await anthropic(secret).messages.create({ model: 'support', max_tokens: 48, messages: hello }).catch((caught: unknown) => caught);
    assert.ok(refused instanceof Anthropic.APIError && refused.status === 402, String(refused));

    let journaled = 0;
    for (const runId of runIds) journaled += (await served.run(runId)).costMicros;
    const account = await served.gateway.keel.store.budgets?.readBudget(scope);
    assert.deepEqual(account, { spent: { micros: journaled, tokens: account?.spent.tokens ?? 0 }, reserved: { micros: 0, tokens: 0 } });
    assert.ok(journaled > 0 && journaled <= 400, `spent ${journaled} of 400`);
  });

  test('a key\'s requests per minute: past the limit, RateLimitError with retry-after, and no run', async () => {
    const { secret } = await newKey({ rpm: 2 });
    const client = openai(secret);
    await client.chat.completions.create({ model: 'support', messages: hello });
    await client.chat.completions.create({ model: 'support', messages: hello });
    const runsBefore = (await served.gateway.keel.store.listRuns({ limit: 10_000 })).length;
    const error = await client.chat.completions.create({ model: 'support', messages: hello }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OpenAI.RateLimitError, String(error));
    assert.equal(error.type, 'rate_limit_error');
    const retryAfter = Number(error.headers?.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
    assert.ok(Number(error.headers?.get('retry-after-ms')) > 0);
    assert.equal((await served.gateway.keel.store.listRuns({ limit: 10_000 })).length, runsBefore);
  });

  test('a key\'s tokens per minute: a call whose worst case does not fit is a rate limit with retry-after', async () => {
    const { secret } = await newKey({ tpm: 40 });
    const error = await openai(secret).chat.completions.create({ model: 'support', max_tokens: 64, messages: hello }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OpenAI.RateLimitError, String(error));
    assert.equal(error.type, 'rate_limit_error');
    assert.match(error.message, /allows 40 tokens per minute/);
    assert.ok(Number(error.headers?.get('retry-after')) >= 1);
  });
});

describe('keel-run-id', () => {
  test('a conversation opened with keel-run-id: new lands in one run\'s journal, traceparent kept; others cannot join it', async () => {
    const { secret } = await newKey();
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const client = openai(secret, { traceparent });
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'First question' }];
    const first = await client.chat.completions.create({ model: 'support', messages }, { headers: { 'keel-run-id': 'new' } }).withResponse();
    const runId = first.response.headers.get('keel-run-id') ?? '';
    assert.equal((await served.run(runId)).status, 'running', 'the run stays open for more calls');
    messages.push({ role: 'assistant', content: first.data.choices[0]?.message.content ?? '' }, { role: 'user', content: 'Second question' });
    const second = await client.chat.completions.create({ model: 'support', messages }, { headers: { 'keel-run-id': runId } }).withResponse();
    assert.equal(second.response.headers.get('keel-run-id'), runId);
    messages.push({ role: 'assistant', content: second.data.choices[0]?.message.content ?? '' }, { role: 'user', content: 'Third, streamed' });
    const stream = await client.chat.completions.create({ model: 'support', messages, stream: true }, { headers: { 'keel-run-id': runId } }).withResponse();
    assert.equal(stream.response.headers.get('keel-run-id'), runId);
    for await (const chunk of stream.data) assert.equal(chunk.object, 'chat.completion.chunk');

    const events = await journal(runId);
    const steps = events.filter((event) => event.type === 'step-end');
    assert.equal(steps.length, 3, 'three calls, three model steps of one run');
    assert.ok(steps.every((event) => event.data.outcome.ok));
    assert.deepEqual(
      events.filter((event) => event.type === 'checkpoint').map((event) => event.data.label),
      ['call-1', 'call-2', 'call-3'],
      'each call was committed before its client was answered',
    );
    const received = events.filter((event) => event.type === 'request-receive');
    assert.deepEqual(
      received.map((event) => [event.data.stream, event.data.traceparent]),
      [
        [false, traceparent],
        [false, traceparent],
        [true, traceparent],
      ],
    );

    const stranger = await newKey({}, 'globex');
    const foreign = await openai(stranger.secret).chat.completions.create({ model: 'support', messages }, { headers: { 'keel-run-id': runId } }).catch((caught: unknown) => caught);
    assert.ok(foreign instanceof OpenAI.NotFoundError, String(foreign));
    assert.equal(foreign.code, 'run_not_found');
    const unknown = await client.chat.completions.create({ model: 'support', messages }, { headers: { 'keel-run-id': 'run_nobody' } }).catch((caught: unknown) => caught);
    assert.ok(unknown instanceof OpenAI.NotFoundError, String(unknown));
    const ended = (await client.chat.completions.create({ model: 'support', messages: hello }).withResponse()).response.headers.get('keel-run-id') ?? '';
    const conflict = await anthropic(secret)
      .messages.create({ model: 'support', max_tokens: 64, messages: hello }, { headers: { 'keel-run-id': ended } })
      .catch((caught: unknown) => caught);
    assert.ok(conflict instanceof Anthropic.APIError && conflict.status === 409, String(conflict));
    assert.equal(steps.length, (await journal(runId)).filter((event) => event.type === 'step-end').length, 'refused calls added nothing to the run');
  });

  test('an open run ends ok once the gateway closes, with every call counted', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'keel-open-run-'));
    const database = join(folder, 'keel.db');
    try {
      const listening = await listenGateway(await createGateway({ environment: {}, database }), { port: 0, host: '127.0.0.1' });
      const client = new OpenAI({ baseURL: `${listening.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const first = await client.chat.completions.create({ model: 'sim:default', messages: hello }, { headers: { 'keel-run-id': 'new' } }).withResponse();
      const runId = first.response.headers.get('keel-run-id') ?? '';
      await client.chat.completions.create({ model: 'sim:default', messages: hello }, { headers: { 'keel-run-id': runId } });
      const mismatch = await client.chat.completions.create({ model: 'sim:fast', messages: hello }, { headers: { 'keel-run-id': runId } }).catch((caught: unknown) => caught);
      assert.ok(mismatch instanceof OpenAI.BadRequestError, String(mismatch));
      await listening.close();
      const store = SqliteStore.open({ path: database });
      try {
        const run = await store.getRun(runId);
        assert.equal(run?.status, 'ok');
        assert.equal(run?.stepCount, 2);
        assert.deepEqual((await store.readJournal(runId)).at(-1)?.data, { status: 'ok', output: { calls: 2 } });
      } finally {
        await store.close();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
