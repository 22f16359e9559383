import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { TestGateway } from './testing/index.ts';
import { simDefaultCost, startTestGateway } from './testing/index.ts';

// The official OpenAI client against `keel serve`'s endpoint on a loopback port, backed by the simulator.
let served: TestGateway;
let client: OpenAI;

before(async () => {
  served = await startTestGateway({ config: { version: 1, routes: [{ name: 'support', models: ['sim:default', 'sim:fast'] }] } });
  client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'not-checked-yet', maxRetries: 0 });
});
after(() => served.close());

const lookupOrder: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'lookup_order',
    description: 'Look an order up by its id.',
    parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'], additionalProperties: false },
  },
};

describe('OpenAI chat completions through the gateway', () => {
  test('a text answer is one journaled run with its tokens and cost', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'sim:default', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello, gateway' }] })
      .withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.model, 'sim:default');
    assert.equal(data.choices[0]?.message.content, 'Acknowledged: Hello, gateway');
    assert.equal(data.choices[0]?.finish_reason, 'stop');
    const usage = data.usage;
    assert.ok(usage !== undefined && usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    const runId = response.headers.get('keel-run-id');
    assert.equal(data.id, `chatcmpl-${runId?.replace(/^run_/, '')}`);
    const run = await served.run(runId);
    assert.equal(run.task, 'gateway:sim:default');
    assert.equal(run.status, 'ok');
    assert.equal(run.principal, 'anonymous');
    assert.equal(run.tenant, 'default');
    assert.equal(run.inputTokens, usage.prompt_tokens);
    assert.equal(run.outputTokens, usage.completion_tokens);
    assert.equal(run.costMicros, simDefaultCost({ inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens }));
  });

  test('a route of the config is a model name; the run is named after it and carries the headers identity', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'support', messages: [{ role: 'user', content: 'Where is my parcel?' }] }, { headers: { 'keel-principal': 'ada', 'keel-tenant': 'acme' } })
      .withResponse();
    assert.equal(data.model, 'support');
    const run = await served.run(response.headers.get('keel-run-id'));
    assert.equal(run.task, 'gateway:support');
    assert.equal(run.principal, 'ada');
    assert.equal(run.tenant, 'acme');
    assert.ok(run.costMicros > 0);
  });

  test('tools: the model calls one, the client answers with a tool message, the model answers from it', async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Where is order A-1001?' }];
    const first = await client.chat.completions.create({ model: 'sim:default', messages, tools: [lookupOrder] });
    const choice = first.choices[0];
    assert.equal(choice?.finish_reason, 'tool_calls');
    const call = choice?.message.tool_calls?.[0];
    assert.ok(call !== undefined && call.type === 'function');
    assert.equal(call.function.name, 'lookup_order');
    assert.equal(typeof (JSON.parse(call.function.arguments) as { orderId: unknown }).orderId, 'string');
    // The assistant message goes back as the response gave it, as clients do.
    messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: '{"status":"shipped"}' });
    const second = await client.chat.completions.create({ model: 'sim:default', messages, tools: [lookupOrder] });
    assert.equal(second.choices[0]?.finish_reason, 'stop');
    assert.equal(second.choices[0]?.message.content, 'Done: lookup_order returned {"status":"shipped"}');
  });

  test('response_format json_schema: the answer is JSON that follows the schema', async () => {
    const completion = await client.chat.completions.create({
      model: 'sim:default',
      messages: [{ role: 'user', content: 'Rate this order.' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'rating',
          strict: true,
          schema: { type: 'object', properties: { verdict: { type: 'string', enum: ['good', 'bad'] }, score: { type: 'integer', minimum: 1, maximum: 5 } }, required: ['verdict', 'score'], additionalProperties: false },
        },
      },
    });
    const answer = JSON.parse(completion.choices[0]?.message.content ?? '') as { verdict: string; score: number };
    assert.ok(['good', 'bad'].includes(answer.verdict));
    assert.ok(Number.isInteger(answer.score) && answer.score >= 1 && answer.score <= 5);
  });

  test('streaming with include_usage: deltas add up to the whole answer, the last chunk carries the usage', async () => {
    const request = { model: 'sim:default', messages: [{ role: 'user' as const, content: 'Stream me a reply about parcels and their journeys' }] };
    const whole = await client.chat.completions.create(request);
    const { data: stream, response } = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } }).withResponse();
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.length > 4, `one chunk per delta, got ${chunks.length}`);
    assert.equal(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join(''), whole.choices[0]?.message.content);
    assert.equal(chunks.findLast((chunk) => chunk.choices.length > 0)?.choices[0]?.finish_reason, 'stop');
    const last = chunks.at(-1);
    assert.deepEqual(last?.choices, []);
    assert.deepEqual(last?.usage, whole.usage);
    await served.gateway.settled();
    const run = await served.run(response.headers.get('keel-run-id'));
    assert.equal(run.status, 'ok');
    assert.equal(run.inputTokens, whole.usage?.prompt_tokens);
    assert.equal(run.outputTokens, whole.usage?.completion_tokens);
    assert.equal(run.costMicros, simDefaultCost({ inputTokens: run.inputTokens, outputTokens: run.outputTokens }));
  });

  test('a streamed tool call is reassembled by the client into the same call', async () => {
    const runner = client.chat.completions.stream({ model: 'sim:default', messages: [{ role: 'user', content: 'Find order B-7' }], tools: [lookupOrder] });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    assert.ok(call !== undefined && call.type === 'function');
    assert.equal(call.function.name, 'lookup_order');
    assert.equal(typeof (JSON.parse(call.function.arguments) as { orderId: unknown }).orderId, 'string');
    assert.equal(final.choices[0]?.finish_reason, 'tool_calls');
  });

  test('GET /v1/models lists the routes and the simulator models; one model can be retrieved', async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    const support = models.find((model) => model.id === 'support');
    assert.equal(support?.owned_by, 'keel');
    assert.equal(models.find((model) => model.id === 'sim:default')?.owned_by, 'sim');
    // The environment has no API key, so no OpenAI or Anthropic model is offered.
    assert.equal(models.some((model) => model.id.startsWith('openai:') || model.id.startsWith('anthropic:')), false);
    assert.equal((await client.models.retrieve('sim:fast')).id, 'sim:fast');
  });

  test('a bad request is a BadRequestError naming the field; no run is opened for it', async () => {
    const before = (await served.gateway.keel.store.listRuns({ limit: 1_000 })).length;
    const error = await client.chat.completions.create({ model: 'sim:default', messages: [] }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.status, 400);
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.param, 'messages');
    assert.match(error.message, /messages/);
    assert.equal((await served.gateway.keel.store.listRuns({ limit: 1_000 })).length, before);
  });

  test('an unknown model is a NotFoundError with code model_not_found, for completions and retrieval alike', async () => {
    const error = await client.chat.completions.create({ model: 'gpt-unknown', messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OpenAI.NotFoundError, String(error));
    assert.equal(error.code, 'model_not_found');
    assert.match(error.message, /support/);
    const missingKey = await client.chat.completions.create({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    assert.ok(missingKey instanceof OpenAI.NotFoundError, String(missingKey));
    assert.match(missingKey.message, /OPENAI_API_KEY/);
    assert.ok((await client.models.retrieve('sim:nonexistent').catch((caught: unknown) => caught)) instanceof OpenAI.NotFoundError);
  });
});
