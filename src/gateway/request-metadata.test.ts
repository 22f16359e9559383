/**
 * Request metadata through the gateway, with the official clients: the body's `metadata` (OpenAI's
 * chat completions and responses, Anthropic's `user_id`) and the `keel-metadata` header become the
 * tags of the run a request opens and are journaled on its request-receive; bad metadata is one 400
 * in the provider's shape; nothing of it goes upstream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { KeelConfig } from '../config/index.ts';
import { loadRun } from '../journal/index.ts';
import { AnthropicWireServer, OpenAIWireServer } from '../models/testing/index.ts';
import type { TestGateway } from './testing/index.ts';
import { startTestGateway } from './testing/index.ts';

describe('request metadata', () => {
  let served: TestGateway;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    served = await startTestGateway();
    openai = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: served.url, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => served.close());

  /** The metadata of each request-receive of the run, in order (null: none). */
  async function received(runId: string | null): Promise<unknown[]> {
    assert.ok(runId !== null, 'the response names its run');
    const { events } = await loadRun(served.gateway.keel.store, runId);
    return events.filter((event) => event.type === 'request-receive').map((event) => (event.data as { metadata?: unknown }).metadata ?? null);
  }

  async function tagsOf(runId: string | null): Promise<unknown> {
    return (await served.run(runId)).tags;
  }

  const hello = [{ role: 'user' as const, content: 'Hello' }];

  test("the openai client's metadata tags the run it opens and is journaled on its request-receive: chat completions, streamed, and responses", async () => {
    const chat = await openai.chat.completions.create({ model: 'sim:default', messages: hello, metadata: { project: 'search', feature: 'autocomplete' } }).withResponse();
    const runId = chat.response.headers.get('keel-run-id');
    assert.deepEqual(await tagsOf(runId), { project: 'search', feature: 'autocomplete' });
    assert.deepEqual(await received(runId), [{ project: 'search', feature: 'autocomplete' }]);

    const stream = await openai.chat.completions.create({ model: 'sim:default', messages: hello, stream: true, metadata: { project: 'ads' } }).withResponse();
    for await (const chunk of stream.data) assert.ok(chunk.object === 'chat.completion.chunk');
    await served.gateway.settled();
    assert.deepEqual(await tagsOf(stream.response.headers.get('keel-run-id')), { project: 'ads' });

    const response = await openai.responses.create({ model: 'sim:default', input: 'Hello', metadata: { project: 'billing' } }).withResponse();
    assert.deepEqual(response.data.metadata, { project: 'billing' }, 'the response still echoes its metadata');
    assert.deepEqual(await tagsOf(response.response.headers.get('keel-run-id')), { project: 'billing' });

    const plain = await openai.chat.completions.create({ model: 'sim:default', messages: hello }).withResponse();
    const plainId = plain.response.headers.get('keel-run-id');
    assert.equal(await tagsOf(plainId), undefined);
    assert.deepEqual(await received(plainId), [null]);
    // An empty object is no metadata.
    const empty = await openai.chat.completions.create({ model: 'sim:default', messages: hello, metadata: {} }).withResponse();
    assert.equal(await tagsOf(empty.response.headers.get('keel-run-id')), undefined);
  });

  test("the keel-metadata header tags a run from any client, embeddings too; its entries override the body's of the same name", async () => {
    const headers = { 'keel-metadata': JSON.stringify({ project: 'ads', team: 'growth' }) };
    const chat = await openai.chat.completions.create({ model: 'sim:default', messages: hello, metadata: { project: 'search', feature: 'ranking' } }, { headers }).withResponse();
    const runId = chat.response.headers.get('keel-run-id');
    assert.deepEqual(await tagsOf(runId), { project: 'ads', feature: 'ranking', team: 'growth' });
    assert.deepEqual(await received(runId), [{ project: 'ads', feature: 'ranking', team: 'growth' }]);

    const embedded = await openai.embeddings.create({ model: 'sim:default', input: ['one', 'two'] }, { headers: { 'keel-metadata': '{"project":"embeddings"}' } }).withResponse();
    assert.deepEqual(await tagsOf(embedded.response.headers.get('keel-run-id')), { project: 'embeddings' });

    // A header carries bytes: text beyond ASCII arrives as its UTF-8 bytes, and is read as such.
    const utf8Bytes = Buffer.from(JSON.stringify({ team: 'Zürich ✓' }), 'utf8').toString('latin1');
    const raw = await fetch(`${served.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'keel-metadata': utf8Bytes }, body: JSON.stringify({ model: 'sim:default', messages: hello }) });
    assert.equal(raw.status, 200, await raw.clone().text());
    assert.deepEqual(await tagsOf(raw.headers.get('keel-run-id')), { team: 'Zürich ✓' });
  });

  test("the Anthropic client's metadata.user_id is the run's tag user_id, beside the header's", async () => {
    const { response } = await anthropic.messages.create({ model: 'sim:default', max_tokens: 64, messages: hello, metadata: { user_id: 'user-42' } }, { headers: { 'keel-metadata': '{"project":"support"}' } }).withResponse();
    const runId = response.headers.get('keel-run-id');
    assert.deepEqual(await tagsOf(runId), { user_id: 'user-42', project: 'support' });
    assert.deepEqual(await received(runId), [{ user_id: 'user-42', project: 'support' }]);
    const none = await anthropic.messages.create({ model: 'sim:default', max_tokens: 64, messages: hello, metadata: { user_id: null } }).withResponse();
    assert.equal(await tagsOf(none.response.headers.get('keel-run-id')), undefined);
  });

  test("a call continuing a run (keel-run-id) keeps the run's tags; its own metadata is journaled on its request-receive", async () => {
    const opened = await openai.chat.completions.create({ model: 'sim:default', messages: hello, metadata: { project: 'search' } }, { headers: { 'keel-run-id': 'new' } }).withResponse();
    const runId = opened.response.headers.get('keel-run-id');
    assert.ok(runId !== null);
    const joined = await openai.chat.completions.create({ model: 'sim:default', messages: hello, metadata: { project: 'ads', turn: '2' } }, { headers: { 'keel-run-id': runId } }).withResponse();
    assert.equal(joined.response.headers.get('keel-run-id'), runId);
    assert.deepEqual(await tagsOf(runId), { project: 'search' });
    assert.deepEqual(await received(runId), [{ project: 'search' }, { project: 'ads', turn: '2' }]);
  });

  test('bad metadata is one 400 in the provider’s shape naming the problem, and opens no run', async () => {
    const runsBefore = (await served.gateway.keel.store.listRuns({ limit: 1_000 })).length;
    const seventeen = Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`key${index}`, 'v']));
    const ten = (prefix: string) => Object.fromEntries(Array.from({ length: 10 }, (_, index) => [`${prefix}${index}`, 'v']));
    const refusals: { metadata?: Record<string, string>; header?: string; message: RegExp; param: string }[] = [
      { header: 'project=search', message: /header keel-metadata must be a JSON object of strings, such as \{"project":"search"\}; got "project=search"/, param: 'keel-metadata' },
      { header: '["search"]', message: /header keel-metadata must be an object of strings, got an array/, param: 'keel-metadata' },
      { header: '{"project":7}', message: /header keel-metadata: entry project must be a string, got number/, param: 'keel-metadata' },
      { header: '{"bad name":"x"}', message: /header keel-metadata: key "bad name" must be 1 to 64 letters, digits/, param: 'keel-metadata' },
      { header: '{"project":""}', message: /header keel-metadata: entry project is empty/, param: 'keel-metadata' },
      { metadata: { 'bad key': 'x' }, message: /Invalid value for 'metadata': metadata key "bad key" must be 1 to 64 letters/, param: 'metadata' },
      { metadata: { note: 'x'.repeat(257) }, message: /metadata note is longer than 256 characters/, param: 'metadata' },
      { metadata: { note: 'two\nlines' }, message: /metadata note holds a control character/, param: 'metadata' },
      { metadata: seventeen, message: /at most 16 metadata entries are allowed, got 17/, param: 'metadata' },
      { metadata: ten('body'), header: JSON.stringify(ten('header')), message: /the body's metadata and header keel-metadata hold 20 entries together; at most 16 are allowed/, param: 'keel-metadata' },
    ];
    for (const refusal of refusals) {
      const headers = refusal.header === undefined ? {} : { 'keel-metadata': refusal.header };
      const failed = await openai.chat.completions
        .create({ model: 'sim:default', messages: hello, ...(refusal.metadata === undefined ? {} : { metadata: refusal.metadata }) }, { headers })
        .catch((error: unknown) => error);
      assert.ok(failed instanceof OpenAI.BadRequestError, `${String(refusal.message)}: ${String(failed)}`);
      assert.match(failed.message, refusal.message);
      assert.equal(failed.param, refusal.param);
      assert.equal(failed.code, 'invalid_metadata');
    }
    // The same header on the Anthropic endpoint: Anthropic's error shape.
    const anthropicFailed = await anthropic.messages.create({ model: 'sim:default', max_tokens: 64, messages: hello }, { headers: { 'keel-metadata': '{"project":' } }).catch((error: unknown) => error);
    assert.ok(anthropicFailed instanceof Anthropic.BadRequestError, String(anthropicFailed));
    assert.equal((anthropicFailed.error as { error?: { type?: string } }).error?.type, 'invalid_request_error');
    assert.match(anthropicFailed.message, /header keel-metadata must be a JSON object of strings/);
    const userId = await anthropic.messages.create({ model: 'sim:default', max_tokens: 64, messages: hello, metadata: { user_id: 'u'.repeat(257) } }).catch((error: unknown) => error);
    assert.ok(userId instanceof Anthropic.BadRequestError, String(userId));
    assert.match(userId.message, /metadata\.user_id: metadata user_id is longer than 256 characters/);
    assert.equal((await served.gateway.keel.store.listRuns({ limit: 1_000 })).length, runsBefore, 'no refused request opened a run');
  });
});

// OpenAI keeps `metadata` only with `store`, which keeps the conversation at OpenAI: the gateway sends neither.
describe('request metadata stays in the gateway', () => {
  let openaiUpstream: OpenAIWireServer;
  let anthropicUpstream: AnthropicWireServer;
  let served: TestGateway;

  before(async () => {
    [openaiUpstream, anthropicUpstream] = await Promise.all([OpenAIWireServer.start(), AnthropicWireServer.start()]);
    const free = { inputPerMillion: 0, outputPerMillion: 0 };
    const config: KeelConfig = {
      version: 1,
      providers: {
        upstream: { api: 'openai-chat', baseURL: openaiUpstream.baseURL, apiKeyEnv: 'UPSTREAM_KEY' },
        claude: { api: 'anthropic', baseURL: anthropicUpstream.baseURL, apiKeyEnv: 'CLAUDE_KEY' },
      },
      prices: { version: 'test', models: { 'upstream:gpt-test': free, 'claude:claude-test': free } },
      routes: [],
    };
    served = await startTestGateway({ config, environment: { UPSTREAM_KEY: 'upstream-secret', CLAUDE_KEY: 'claude-secret' } });
  });
  after(async () => {
    await served.close();
    await Promise.all([openaiUpstream.close(), anthropicUpstream.close()]);
  });

  test('neither the body’s metadata nor the header reaches an OpenAI or Anthropic upstream, and the run is tagged', async () => {
    openaiUpstream.reply({ fixture: 'chat-text.json' });
    const headers = { 'keel-metadata': '{"team":"core"}' };
    const chat = await new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'unused', maxRetries: 0 }).chat.completions
      .create({ model: 'upstream:gpt-test', messages: [{ role: 'user', content: 'Hello' }], metadata: { project: 'search' } }, { headers })
      .withResponse();
    const sent = openaiUpstream.lastRequest;
    assert.equal((sent.body as Record<string, unknown>).metadata, undefined);
    assert.equal((sent.body as Record<string, unknown>).store, undefined);
    assert.equal(sent.headers['keel-metadata'], undefined);
    assert.deepEqual((await served.run(chat.response.headers.get('keel-run-id'))).tags, { project: 'search', team: 'core' });

    anthropicUpstream.reply({ fixture: 'message-text.json' });
    const message = await new Anthropic({ baseURL: served.url, apiKey: 'unused', maxRetries: 0 }).messages
      .create({ model: 'claude:claude-test', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }], metadata: { user_id: 'user-42' } }, { headers })
      .withResponse();
    assert.equal((anthropicUpstream.lastRequest.body as Record<string, unknown>).metadata, undefined);
    assert.equal(anthropicUpstream.lastRequest.headers['keel-metadata'], undefined);
    assert.deepEqual((await served.run(message.response.headers.get('keel-run-id'))).tags, { user_id: 'user-42', team: 'core' });
  });
});
