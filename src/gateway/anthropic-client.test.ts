import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import type { TestGateway } from './testing/index.ts';
import { simDefaultCost, startTestGateway } from './testing/index.ts';

// The official Anthropic client against the gateway on a loopback port, backed by the simulator.
let served: TestGateway;
let client: Anthropic;

before(async () => {
  served = await startTestGateway();
  client = new Anthropic({ baseURL: served.url, apiKey: 'not-checked-yet', maxRetries: 0 });
});
after(() => served.close());

const lookupOrder: Tool = {
  name: 'lookup_order',
  description: 'Look an order up by its id.',
  input_schema: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
};

describe('Anthropic messages through the gateway', () => {
  test('a text answer is one journaled run with its tokens and cost', async () => {
    const { data, response } = await client.messages
      .create({ model: 'sim:default', max_tokens: 256, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello, gateway' }] })
      .withResponse();
    assert.equal(data.type, 'message');
    assert.equal(data.model, 'sim:default');
    assert.deepEqual(data.content, [{ type: 'text', text: 'Acknowledged: Hello, gateway' }]);
    assert.equal(data.stop_reason, 'end_turn');
    const runId = response.headers.get('keel-run-id');
    const run = await served.run(runId);
    assert.equal(run.task, 'gateway:sim:default');
    assert.equal(run.status, 'ok');
    assert.equal(run.inputTokens, data.usage.input_tokens);
    assert.equal(run.outputTokens, data.usage.output_tokens);
    assert.equal(run.costMicros, simDefaultCost({ inputTokens: data.usage.input_tokens, outputTokens: data.usage.output_tokens }));
  });

  test('tools: a tool_use block, a tool_result answered back, an answer from it', async () => {
    const messages: MessageParam[] = [{ role: 'user', content: 'Where is order A-1001?' }];
    const first = await client.messages.create({ model: 'sim:default', max_tokens: 256, messages, tools: [lookupOrder] });
    assert.equal(first.stop_reason, 'tool_use');
    const use = first.content.find((block) => block.type === 'tool_use');
    assert.ok(use !== undefined && use.type === 'tool_use');
    assert.equal(use.name, 'lookup_order');
    assert.equal(typeof (use.input as { orderId: unknown }).orderId, 'string');
    messages.push({ role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'shipped on Monday' }] });
    const second = await client.messages.create({ model: 'sim:default', max_tokens: 256, messages, tools: [lookupOrder] });
    assert.equal(second.stop_reason, 'end_turn');
    assert.deepEqual(second.content, [{ type: 'text', text: 'Done: lookup_order returned shipped on Monday' }]);
  });

  test('streaming: the client assembles the same message and usage as a whole answer', async () => {
    const request = { model: 'sim:default', max_tokens: 256, messages: [{ role: 'user' as const, content: 'Stream me a reply about parcels and their journeys' }] };
    const whole = await client.messages.create(request);
    const stream = client.messages.stream(request);
    let deltas = 0;
    stream.on('text', () => (deltas += 1));
    const final = await stream.finalMessage();
    assert.ok(deltas > 4, `one event per delta, got ${deltas}`);
    assert.deepEqual(final.content, whole.content);
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.usage.input_tokens, whole.usage.input_tokens);
    assert.equal(final.usage.output_tokens, whole.usage.output_tokens);
    await served.gateway.settled();
    const streamed = await served.run(stream.response?.headers.get('keel-run-id') ?? null);
    assert.equal(streamed.status, 'ok');
    assert.equal(streamed.outputTokens, whole.usage.output_tokens);
    assert.equal(streamed.costMicros, simDefaultCost({ inputTokens: whole.usage.input_tokens, outputTokens: whole.usage.output_tokens }));
  });

  test('a streamed tool call arrives as a tool_use block with its input', async () => {
    const final = await client.messages.stream({ model: 'sim:default', max_tokens: 256, messages: [{ role: 'user', content: 'Find order B-7' }], tools: [lookupOrder] }).finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    const use = final.content.find((block) => block.type === 'tool_use');
    assert.ok(use !== undefined && use.type === 'tool_use');
    assert.equal(typeof (use.input as { orderId: unknown }).orderId, 'string');
  });

  test('count_tokens counts what the model is then charged for', async () => {
    const conversation = { model: 'sim:default', system: 'Be brief.', messages: [{ role: 'user' as const, content: 'How many tokens is this?' }], tools: [lookupOrder] };
    const counted = await client.messages.countTokens(conversation);
    const answered = await client.messages.create({ ...conversation, max_tokens: 64, tool_choice: { type: 'none' } });
    assert.equal(counted.input_tokens, answered.usage.input_tokens);
  });

  test('a bad request is a BadRequestError naming the field, in Anthropic\'s error shape', async () => {
    const error = await client.messages.create({ model: 'sim:default', messages: [{ role: 'user', content: 'hi' }] } as never).catch((caught: unknown) => caught);
    assert.ok(error instanceof Anthropic.BadRequestError, String(error));
    assert.equal(error.status, 400);
    assert.deepEqual(error.error, { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' }, request_id: null });
  });

  test('an unknown model is a NotFoundError', async () => {
    const error = await client.messages.create({ model: 'claude-unknown', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    assert.ok(error instanceof Anthropic.NotFoundError, String(error));
    const counting = await client.messages.countTokens({ model: 'claude-unknown', messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    assert.ok(counting instanceof Anthropic.NotFoundError, String(counting));
  });

  test('GET /v1/models answers in Anthropic\'s shape for Anthropic\'s client', async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    const simulated = models.find((model) => model.id === 'sim:default');
    assert.equal(simulated?.type, 'model');
    assert.equal(typeof simulated?.created_at, 'string');
  });
});
