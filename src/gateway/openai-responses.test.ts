import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import type { FunctionTool, ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { TestGateway } from './testing/index.ts';
import { simDefaultCost, startTestGateway } from './testing/index.ts';

// The official OpenAI client's Responses API against the gateway on a loopback port, backed by the simulator.
let served: TestGateway;
let client: OpenAI;

before(async () => {
  served = await startTestGateway({ config: { version: 1, routes: [{ name: 'support', models: ['sim:default', 'sim:fast'] }] } });
  client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'not-checked-yet', maxRetries: 0 });
});
after(() => served.close());

const lookupOrder: FunctionTool = {
  type: 'function',
  name: 'lookup_order',
  description: 'Look an order up by its id.',
  parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'], additionalProperties: false },
  strict: true,
};

async function runCount(): Promise<number> {
  return (await served.gateway.keel.store.listRuns({ limit: 1_000 })).length;
}

describe('OpenAI Responses through the gateway', () => {
  test('a text answer is a completed response, one journaled run with its tokens and cost', async () => {
    const { data, response } = await client.responses.create({ model: 'sim:default', instructions: 'Be brief.', input: 'Hello, responses' }).withResponse();
    assert.equal(data.object, 'response');
    assert.equal(data.status, 'completed');
    assert.equal(data.model, 'sim:default');
    assert.equal(data.instructions, 'Be brief.');
    assert.equal(data.output_text, 'Acknowledged: Hello, responses');
    const [message] = data.output;
    assert.ok(message?.type === 'message');
    assert.equal(message.role, 'assistant');
    assert.deepEqual(message.content, [{ type: 'output_text', text: 'Acknowledged: Hello, responses', annotations: [], logprobs: [] }]);
    const usage = data.usage;
    assert.ok(usage !== undefined && usage.input_tokens > 0 && usage.output_tokens > 0);
    assert.equal(usage.total_tokens, usage.input_tokens + usage.output_tokens);
    const runId = response.headers.get('keel-run-id');
    assert.equal(data.id, `resp_${runId?.replace(/^run_/, '').replaceAll('-', '')}`);
    const run = await served.run(runId);
    assert.equal(run.task, 'gateway:sim:default');
    assert.equal(run.status, 'ok');
    assert.equal(run.inputTokens, usage.input_tokens);
    assert.equal(run.outputTokens, usage.output_tokens);
    assert.equal(run.costMicros, simDefaultCost({ inputTokens: usage.input_tokens, outputTokens: usage.output_tokens }));
  });

  test('tools: a function_call item, its function_call_output sent back with the output items, an answer from it', async () => {
    const input: ResponseInputItem[] = [{ role: 'user', content: 'Where is order A-1001?' }];
    const first = await client.responses.create({ model: 'support', input, tools: [lookupOrder] });
    assert.equal(first.status, 'completed');
    const call = first.output.find((item) => item.type === 'function_call');
    assert.ok(call?.type === 'function_call');
    assert.equal(call.name, 'lookup_order');
    assert.equal(typeof (JSON.parse(call.arguments) as { orderId: unknown }).orderId, 'string');
    // The output items go back as the response gave them, as clients do, then the call's output.
    input.push(...(first.output as ResponseInputItem[]), { type: 'function_call_output', call_id: call.call_id, output: '{"status":"shipped"}' });
    const second = await client.responses.create({ model: 'support', input, tools: [lookupOrder] });
    assert.equal(second.output_text, 'Done: lookup_order returned {"status":"shipped"}');
    assert.equal(second.output.some((item) => item.type === 'function_call'), false);
  });

  test('text.format json_schema: the answer is JSON that follows the schema', async () => {
    const response = await client.responses.create({
      model: 'sim:default',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Rate this order.' }] }],
      text: {
        format: {
          type: 'json_schema',
          name: 'rating',
          strict: true,
          schema: { type: 'object', properties: { verdict: { type: 'string', enum: ['good', 'bad'] }, score: { type: 'integer', minimum: 1, maximum: 5 } }, required: ['verdict', 'score'], additionalProperties: false },
        },
      },
    });
    const answer = JSON.parse(response.output_text) as { verdict: string; score: number };
    assert.ok(['good', 'bad'].includes(answer.verdict));
    assert.ok(Number.isInteger(answer.score) && answer.score >= 1 && answer.score <= 5);
    assert.deepEqual((response.text?.format as { name?: string } | undefined)?.name, 'rating');
  });

  test('streaming text: numbered events whose deltas add up to the whole answer, completed with the usage', async () => {
    const request = { model: 'sim:default', input: 'Stream me a reply about parcels and their journeys' };
    const whole = await client.responses.create(request);
    const { data: stream, response } = await client.responses.create({ ...request, stream: true }).withResponse();
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    assert.deepEqual(
      events.map((event) => event.sequence_number),
      events.map((_, index) => index),
    );
    assert.equal(events[0]?.type, 'response.created');
    assert.equal(events.at(-1)?.type, 'response.completed');
    const deltas = events.flatMap((event) => (event.type === 'response.output_text.delta' ? [event.delta] : []));
    assert.ok(deltas.length > 4, `one event per delta, got ${deltas.length}`);
    assert.equal(deltas.join(''), whole.output_text);
    const completed = events.at(-1);
    assert.ok(completed?.type === 'response.completed');
    assert.deepEqual(completed.response.usage, whole.usage);
    assert.deepEqual(completed.response.output.map((item) => item.type), ['message']);
    await served.gateway.settled();
    const run = await served.run(response.headers.get('keel-run-id'));
    assert.equal(run.status, 'ok');
    assert.equal(run.inputTokens, whole.usage?.input_tokens);
    assert.equal(run.costMicros, simDefaultCost({ inputTokens: run.inputTokens, outputTokens: run.outputTokens }));
  });

  test('streaming a tool call: the client\'s stream helper assembles the same function_call item', async () => {
    const runner = client.responses.stream({ model: 'sim:default', input: 'Find order B-7', tools: [lookupOrder], tool_choice: { type: 'function', name: 'lookup_order' } });
    const argumentDeltas: string[] = [];
    runner.on('response.function_call_arguments.delta', (event) => argumentDeltas.push(event.delta));
    const final = await runner.finalResponse();
    assert.equal(final.status, 'completed');
    const call = final.output.find((item) => item.type === 'function_call');
    assert.ok(call?.type === 'function_call');
    assert.equal(call.name, 'lookup_order');
    assert.equal(call.status, 'completed');
    assert.equal(argumentDeltas.join(''), call.arguments);
    assert.equal(typeof (JSON.parse(call.arguments) as { orderId: unknown }).orderId, 'string');
  });

  test('bad requests are BadRequestErrors naming the field, and open no run', async () => {
    const before = await runCount();
    const cases: [Parameters<typeof client.responses.create>[0], RegExp, string][] = [
      [{ model: 'sim:default', input: 'hi', previous_response_id: 'resp_123' }, /previous_response_id is not supported/, 'previous_response_id'],
      [{ model: 'sim:default', input: 'hi', store: true }, /store: true is not supported/, 'store'],
      [{ model: 'sim:default', input: 'hi', tools: [{ type: 'web_search' }] }, /function tools only/, 'tools[0].type'],
      [{ model: 'sim:default', input: [{ type: 'function_call_output', call_id: 'call_9', output: 'x' }] }, /call_9/, 'input[0].call_id'],
      [{ model: 'sim:default', input: [{ role: 'user', content: [{ type: 'input_image', detail: 'auto', image_url: 'https://example.com/a.png' }] }] }, /text content parts only/, 'input[0].content'],
      [{ model: 'sim:default', input: 'hi', temperature: 'hot' as unknown as number }, /^400 Invalid value for 'temperature': expected number, received string\.$/, 'temperature'],
      [{ model: 'sim:default', input: 'hi', frobnicate: true } as Parameters<typeof client.responses.create>[0], /^400 Unrecognized request argument supplied: frobnicate$/, 'frobnicate'],
    ];
    for (const [body, message, param] of cases) {
      const error = await client.responses.create(body).catch((caught: unknown) => caught);
      assert.ok(error instanceof OpenAI.BadRequestError, `${JSON.stringify(body)}: ${String(error)}`);
      assert.equal(error.type, 'invalid_request_error');
      assert.match(error.message, message);
      assert.ok(error.param?.startsWith(param), `${error.param} for ${JSON.stringify(body)}`);
    }
    const missing = await client.responses.create({ model: 'sim:default' }).catch((caught: unknown) => caught);
    assert.ok(missing instanceof OpenAI.BadRequestError);
    assert.equal(missing.param, 'input');
    const unknownModel = await client.responses.create({ model: 'gpt-unknown', input: 'hi', stream: true }).catch((caught: unknown) => caught);
    assert.ok(unknownModel instanceof OpenAI.NotFoundError, String(unknownModel));
    assert.equal(await runCount(), before);
  });
});

test('a stream that breaks after it began ends with response.failed carrying the error; the run is failed and billed', async () => {
  // Every simulated stream breaks after its first two text deltas: too late for an error status.
  const broken = await startTestGateway({ simulator: { faults: [{ on: { afterCall: 0 }, fault: { type: 'truncated-stream', afterParts: 3 } }] } });
  try {
    const brokenClient = new OpenAI({ baseURL: `${broken.url}/v1`, apiKey: 'not-checked-yet', maxRetries: 0 });
    const { data: stream, response } = await brokenClient.responses.create({ model: 'sim:default', input: 'Tell me about parcels and their journeys', stream: true }).withResponse();
    assert.equal(response.status, 200);
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const last = events.at(-1);
    assert.ok(last?.type === 'response.failed', last?.type);
    assert.equal(last.response.status, 'failed');
    assert.match(last.response.error?.message ?? '', /stream ended after 3 parts, before finish/);
    assert.equal(events.flatMap((event) => (event.type === 'response.output_text.delta' ? [event.delta] : [])).join(''), 'Acknowledged: ');
    await broken.gateway.settled();
    const run = await broken.run(response.headers.get('keel-run-id'));
    assert.equal(run.status, 'failed');
    assert.ok(run.costMicros > 0, 'a stream cut short is billed its reservation');
  } finally {
    await broken.close();
  }
});
