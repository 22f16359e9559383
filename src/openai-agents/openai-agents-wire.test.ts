/**
 * The SDK's loop with Keel as its model provider over real HTTP: `openai:gpt-4o-mini` resolves to
 * Keel's OpenAI adapter (the official client) pointed at a loopback server speaking Chat
 * Completions, which plays the model (a lookup, a refund, then an answer). What crossed the wire is
 * checked against what the SDK asked, and the run's journal records each call at the server's usage.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createKeel } from '../agent/index.ts';
import type { JournalEvent } from '../journal/index.ts';
import { parseEvent } from '../journal/index.ts';
import { SqliteStore } from '../store/index.ts';
import type { AgentLoopOutput } from './refund-agent.fixture.ts';
import { newObservations, refundAgentTask } from './refund-agent.fixture.ts';

type WireMessage = { role: string; content?: string | null; tool_call_id?: string; tool_calls?: { id: string; function: { name: string; arguments: string } }[] };
type WireRequest = { model: string; messages: WireMessage[]; tools?: { function: { name: string } }[]; max_tokens?: number; max_completion_tokens?: number };

const folder = mkdtempSync(join(tmpdir(), 'keel-openai-agents-wire-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const received: WireRequest[] = [];
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as WireRequest;
    received.push(body);
    const results = body.messages.filter((message) => message.role === 'tool').length;
    const call = (name: string, input: object) => ({ role: 'assistant', content: null, tool_calls: [{ id: `call_${received.length}`, type: 'function', function: { name, arguments: JSON.stringify(input) } }] });
    const message = results === 0 ? call('lookup_order', { orderId: 'A-1' }) : results === 1 ? call('issue_refund', { orderId: 'A-1', amountCents: 5000 }) : { role: 'assistant', content: 'Refunded A-1.' };
    const answer = {
      id: `chatcmpl-${received.length}`,
      object: 'chat.completion',
      created: 1_764_700_000,
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message, finish_reason: results < 2 ? 'tool_calls' : 'stop' }],
      usage: { prompt_tokens: 100 + 10 * results, completion_tokens: 20, total_tokens: 120 + 10 * results },
    };
    response.writeHead(200, { 'content-type': 'application/json', 'x-request-id': `req_${received.length}` }).end(JSON.stringify(answer));
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
after(() => server.close());

test("the SDK's loop runs over Keel's OpenAI adapter: the wire carries the SDK's conversation and tools, and the journal records each call at the server's usage", async () => {
  const port = (server.address() as AddressInfo).port;
  const store = SqliteStore.open({ path: join(folder, 'wire.db'), durability: 'normal' });
  const keel = await createKeel({ store, environment: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` } });
  after(async () => {
    await keel.close();
    await store.close();
  });
  const observations = newObservations();
  keel.engine.tasks.register(refundAgentTask({ runtime: () => keel.runtime, plan: [], model: 'openai:gpt-4o-mini', maxTokens: 200, observations }));
  const outcome = await keel.run('openai-agents-refunds', { message: 'Refund order A-1' }, { principal: 'ada', tenant: 'acme' });
  assert.equal(outcome.status, 'ok', outcome.reason);
  assert.equal((outcome.output as AgentLoopOutput).text, 'Refunded A-1.');
  assert.equal(observations.refunds.length, 1);

  assert.equal(received.length, 3);
  const last = received.at(-1);
  assert.equal(last?.model, 'gpt-4o-mini');
  assert.deepEqual(last?.messages.map((message) => message.role), ['system', 'user', 'assistant', 'tool', 'assistant', 'tool']);
  assert.equal(last?.messages[0]?.content, 'You refund orders.');
  assert.match(last?.messages[3]?.content ?? '', /delivered/);
  assert.equal(last?.messages[3]?.tool_call_id, 'call_1');
  assert.deepEqual(last?.tools?.map((tool) => tool.function.name), ['lookup_order', 'issue_refund']);
  assert.equal(last?.max_completion_tokens ?? last?.max_tokens, 200);

  const events = (await store.readJournal(outcome.runId)).map(parseEvent);
  const models = events.filter((event): event is Extract<JournalEvent, { type: 'step-end' }> => event.type === 'step-end' && event.data.kind === 'model-call');
  assert.deepEqual(models.map((model) => [model.data.name, model.data.usage?.inputTokens, model.data.usage?.outputTokens]), [
    ['openai-agents:openai:gpt-4o-mini', 100, 20],
    ['openai-agents:openai:gpt-4o-mini', 110, 20],
    ['openai-agents:openai:gpt-4o-mini', 120, 20],
  ]);
  // A custom OPENAI_BASE_URL is an OpenAI-compatible server, which the default price table declares free: priced at 0, by that table.
  assert.deepEqual(models.map((model) => model.data.cost), models.map(() => ({ micros: 0, priceVersion: '2026-11-01' })));
});
