import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import type { LanguageModel } from 'ai';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';
import { AnthropicWireServer, OpenAIWireServer } from '../models/testing/index.ts';
import type { RunRecordV1 } from '../spec/index.ts';
import type { TestGateway } from './testing/index.ts';
import { simDefaultCost, startTestGateway } from './testing/index.ts';

// The Vercel AI SDK (`ai` with its official OpenAI and Anthropic providers) pointed at `keel serve`
// on a loopback port: backed by the simulator, and by the loopback OpenAI and Anthropic wire servers.
let served: TestGateway;
before(async () => {
  served = await startTestGateway();
});
after(() => served.close());

const openai = (gateway = served) => createOpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'not-checked-yet' });
const anthropic = (gateway = served) => createAnthropic({ baseURL: `${gateway.url}/v1`, apiKey: 'not-checked-yet' });

/** The run a response names in its `keel-run-id` header. */
async function runOf(headers: Record<string, string | undefined> | undefined, gateway = served): Promise<RunRecordV1> {
  await gateway.gateway.settled();
  return gateway.run(headers?.['keel-run-id'] ?? null);
}

function assertPriced(run: RunRecordV1, usage: { inputTokens: number | undefined; outputTokens: number | undefined }) {
  assert.equal(run.status, 'ok');
  assert.ok((usage.inputTokens ?? 0) > 0 && (usage.outputTokens ?? 0) > 0, 'the client saw the usage');
  assert.equal(run.inputTokens, usage.inputTokens);
  assert.equal(run.outputTokens, usage.outputTokens);
}

const lookupOrder = tool({
  description: 'Look an order up by its id.',
  inputSchema: z.object({ orderId: z.string() }),
  execute: ({ orderId }) => ({ orderId, status: 'shipped' }),
});

const models: [string, () => LanguageModel][] = [
  ['@ai-sdk/openai .chat() (chat completions)', () => openai().chat('sim:default')],
  ['@ai-sdk/openai .responses() (the Responses API)', () => openai().responses('sim:default')],
  ['@ai-sdk/anthropic (messages)', () => anthropic()('sim:default')],
];

for (const [label, model] of models) {
  describe(`the AI SDK through the gateway: ${label}`, () => {
    test('generateText: the answer is one journaled run with its tokens and cost', async () => {
      const result = await generateText({ model: model(), system: 'Be brief.', prompt: 'Hello, gateway', maxRetries: 0 });
      assert.equal(result.text, 'Acknowledged: Hello, gateway');
      assert.equal(result.finishReason, 'stop');
      const run = await runOf(result.response.headers);
      assert.equal(run.task, 'gateway:sim:default');
      assertPriced(run, result.usage);
      assert.equal(run.costMicros, simDefaultCost({ inputTokens: run.inputTokens, outputTokens: run.outputTokens }));
    });

    test('streamText: the deltas add up to the whole answer, and the streamed call is a journaled run', async () => {
      const prompt = 'Stream me a reply about parcels and their journeys';
      const whole = await generateText({ model: model(), prompt, maxRetries: 0 });
      const result = streamText({ model: model(), prompt, maxRetries: 0 });
      const deltas: string[] = [];
      for await (const delta of result.textStream) deltas.push(delta);
      assert.ok(deltas.length > 4, `one part per delta, got ${deltas.length}`);
      assert.equal(deltas.join(''), whole.text);
      const usage = await result.usage;
      assert.equal(usage.outputTokens, whole.usage.outputTokens);
      const run = await runOf((await result.response).headers);
      assertPriced(run, usage);
      assert.equal(run.costMicros, simDefaultCost({ inputTokens: run.inputTokens, outputTokens: run.outputTokens }));
    });

    test("a tool call: the AI SDK's loop runs the tool and sends its result back; each model call is a journaled run", async () => {
      const result = await generateText({ model: model(), prompt: 'Where is order A-1001?', tools: { lookup_order: lookupOrder }, stopWhen: stepCountIs(3), maxRetries: 0 });
      assert.equal(result.steps.length, 2);
      const call = result.steps[0]?.toolCalls[0];
      assert.equal(call?.toolName, 'lookup_order');
      assert.equal(typeof (call?.input as { orderId?: unknown } | undefined)?.orderId, 'string');
      assert.match(result.text, /^Done: lookup_order returned .*shipped/);
      const runs = await Promise.all(result.steps.map((step) => runOf(step.response.headers)));
      assert.equal(new Set(runs.map((run) => run.id)).size, 2, 'two calls, two runs');
      for (const [index, run] of runs.entries()) assertPriced(run, result.steps[index]?.usage ?? { inputTokens: undefined, outputTokens: undefined });
    });
  });
}

describe('the AI SDK through the gateway, backed by the providers\' wire formats (loopback wire servers)', () => {
  let wired: TestGateway;
  let openaiWire: OpenAIWireServer;
  let anthropicWire: AnthropicWireServer;
  before(async () => {
    openaiWire = await OpenAIWireServer.start();
    anthropicWire = await AnthropicWireServer.start();
    wired = await startTestGateway({
      environment: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openaiWire.baseURL, ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: anthropicWire.baseURL },
      // A server at another base URL is `openai-compatible`, which Keel does not price unless told to.
      config: { version: 1, routes: [], prices: { version: 'wire-test', models: { 'openai-compatible:gpt-4o': { inputPerMillion: 2_500_000, outputPerMillion: 10_000_000 }, 'anthropic:claude-sonnet-4-5': { inputPerMillion: 3_000_000, outputPerMillion: 15_000_000 } } } },
    });
  });
  after(async () => {
    await wired.close();
    await openaiWire.close();
    await anthropicWire.close();
  });

  test('@ai-sdk/openai .chat() calling openai:gpt-4o: the wire server answers, the run is priced as the config says', async () => {
    openaiWire.reply({ fixture: 'chat-text.json' });
    const result = await generateText({ model: openai(wired).chat('openai:gpt-4o'), prompt: 'Capital of France?', maxRetries: 0 });
    assert.equal(result.text, 'The capital of France is Paris.');
    const run = await runOf(result.response.headers, wired);
    assert.equal(run.task, 'gateway:openai:gpt-4o');
    assertPriced(run, result.usage);
    assert.equal(run.inputTokens, 1310);
    assert.ok(run.costMicros > 0);
    assert.equal(openaiWire.requests.at(-1)?.path, '/v1/chat/completions');
  });

  test('@ai-sdk/openai .chat() streaming a tool call from openai:gpt-4o', async () => {
    openaiWire.reply({ fixture: 'chat-tool-calls-stream.sse' });
    const tools = {
      get_weather: tool({ inputSchema: z.object({ city: z.string(), unit: z.string() }), execute: ({ city }) => `${city}: 18 C` }),
      get_time: tool({ inputSchema: z.object({ timezone: z.string() }), execute: ({ timezone }) => `${timezone}: 09:00` }),
    };
    const result = streamText({ model: openai(wired).chat('openai:gpt-4o'), prompt: 'Weather in Paris, time in Tokyo?', tools, maxRetries: 0 });
    await result.consumeStream();
    const calls = await result.toolCalls;
    assert.deepEqual(calls.map((call): [string, unknown] => [call.toolName, call.input]), [['get_weather', { city: 'Paris', unit: 'celsius' }], ['get_time', { timezone: 'Asia/Tokyo' }]]);
    assert.equal(await result.finishReason, 'tool-calls');
    const run = await runOf((await result.response).headers, wired);
    assertPriced(run, await result.usage);
    assert.ok(run.costMicros > 0);
  });

  test('@ai-sdk/anthropic calling anthropic:claude-sonnet-4-5 with its large default max_tokens: the wire server answers, the run is priced', async () => {
    anthropicWire.reply({ fixture: 'message-text.json' });
    const result = await generateText({ model: anthropic(wired)('anthropic:claude-sonnet-4-5'), prompt: 'Hello', maxRetries: 0 });
    assert.ok(result.text.length > 0);
    const run = await runOf(result.response.headers, wired);
    assert.equal(run.task, 'gateway:anthropic:claude-sonnet-4-5');
    // The AI SDK asks for the model's whole output limit without streaming; Keel's adapter sends it on.
    assert.equal((anthropicWire.requests.at(-1)?.body as { max_tokens?: number } | undefined)?.max_tokens, 64_000);
    assertPriced(run, result.usage);
    assert.ok(run.costMicros > 0);
  });
});

test('the AI SDK embedMany with @ai-sdk/openai\'s embedding model: one vector per value, in order, as one journaled, priced run', async () => {
  const { embedMany } = await import('ai');
  const values = ['Where is A-1001?', 'Refund my order', 'Where is A-1001?'];
  const result = await embedMany({ model: openai().embedding('sim:default'), values, maxRetries: 0 });
  assert.equal(result.embeddings.length, 3);
  assert.deepEqual(result.embeddings[2], result.embeddings[0], 'the same text, the same vector');
  assert.equal(result.embeddings[0]?.length, 64);
  const runs = (await served.gateway.keel.store.listRuns({ limit: 1_000 })).filter((run) => run.task === 'gateway:sim:default');
  const embedded = runs.find((run) => run.outputTokens === 0 && run.inputTokens === result.usage.tokens);
  assert.ok(embedded !== undefined, `a run billed the ${result.usage.tokens} tokens the client saw`);
  assert.equal(embedded.costMicros, simDefaultCost({ inputTokens: result.usage.tokens, outputTokens: 0 }));
});
