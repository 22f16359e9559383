import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import type { AIMessage, AIMessageChunk, BaseMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';
import { OpenAIWireServer } from '../models/testing/index.ts';
import type { RunRecordV1 } from '../spec/index.ts';
import type { TestGateway } from './testing/index.ts';
import { simDefaultCost, startTestGateway } from './testing/index.ts';

// LangChain JS's official OpenAI chat model (@langchain/openai ChatOpenAI) with its base URL at
// `keel serve` on a loopback port: backed by the simulator, and by the loopback OpenAI wire server.
let served: TestGateway;
before(async () => {
  served = await startTestGateway();
});
after(() => served.close());

function chatModel(model: string, gateway: TestGateway, options: { useResponsesApi?: boolean } = {}): ChatOpenAI {
  return new ChatOpenAI({ model, apiKey: 'not-checked-yet', maxRetries: 0, configuration: { baseURL: `${gateway.url}/v1` }, ...options });
}

/** The run behind an answer: the gateway names its responses after their runs, and LangChain keeps the response id as the message id. */
async function runOf(message: BaseMessage, gateway = served): Promise<RunRecordV1> {
  await gateway.gateway.settled();
  const runs = await gateway.gateway.keel.store.listRuns({ limit: 1_000 });
  const id = message.id ?? '';
  // The gateway's response ids are its run ids: chatcmpl-<uuid> / resp_<uuid without dashes>.
  const run = runs.find((candidate) => id !== '' && (id === `chatcmpl-${candidate.id.replace(/^run_/, '')}` || id === `resp_${candidate.id.replace(/^run_/, '').replaceAll('-', '')}`));
  assert.ok(run !== undefined, `no run answers response ${id}`);
  return gateway.run(run.id);
}

function usageOf(message: AIMessage): { inputTokens: number; outputTokens: number } {
  const usage = message.usage_metadata as { input_tokens: number; output_tokens: number } | undefined;
  assert.ok(usage !== undefined, 'LangChain read the usage');
  return { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens };
}

function assertJournaled(run: RunRecordV1, usage: { inputTokens: number; outputTokens: number }) {
  assert.equal(run.status, 'ok');
  assert.ok(usage.inputTokens > 0 && usage.outputTokens > 0);
  assert.equal(run.inputTokens, usage.inputTokens);
  assert.equal(run.outputTokens, usage.outputTokens);
  assert.ok(run.costMicros > 0, 'the call is priced');
}

const lookupOrder = tool(({ orderId }) => JSON.stringify({ orderId, status: 'shipped' }), {
  name: 'lookup_order',
  description: 'Look an order up by its id.',
  schema: z.object({ orderId: z.string() }),
});

for (const [label, useResponsesApi] of [
  ['chat completions', false],
  ['the Responses API (useResponsesApi)', true],
] as const) {
  describe(`LangChain ChatOpenAI through the gateway: ${label}`, () => {
    test('invoke: the answer is one journaled run with its tokens and cost', async () => {
      const answer = await chatModel('sim:default', served, { useResponsesApi }).invoke([new SystemMessage('Be brief.'), new HumanMessage('Hello, gateway')]);
      assert.equal(answer.text, 'Acknowledged: Hello, gateway');
      const run = await runOf(answer);
      assert.equal(run.task, 'gateway:sim:default');
      assertJournaled(run, usageOf(answer));
      assert.equal(run.costMicros, simDefaultCost(usageOf(answer)));
    });

    test('stream: the chunks add up to the whole answer, the usage arrives, and the streamed call is a journaled run', async () => {
      const model = chatModel('sim:default', served, { useResponsesApi });
      const prompt = [new HumanMessage('Stream me a reply about parcels and their journeys')];
      const whole = await model.invoke(prompt);
      let gathered: AIMessageChunk | undefined;
      let chunks = 0;
      for await (const chunk of await model.stream(prompt)) {
        chunks += 1;
        gathered = gathered === undefined ? chunk : gathered.concat(chunk);
      }
      assert.ok(gathered !== undefined && chunks > 4, `one chunk per delta, got ${chunks}`);
      assert.equal(gathered.text, whole.text);
      const usage = usageOf(gathered);
      assert.equal(usage.outputTokens, usageOf(whole).outputTokens);
      const run = await runOf(gathered);
      assertJournaled(run, usage);
    });

    test('bindTools: the model calls the tool, the tool message goes back, the model answers from it; each call is a run', async () => {
      const model = chatModel('sim:default', served, { useResponsesApi }).bindTools([lookupOrder]);
      const messages: BaseMessage[] = [new HumanMessage('Where is order A-1001?')];
      const first = await model.invoke(messages);
      const call = first.tool_calls?.[0];
      assert.equal(call?.name, 'lookup_order');
      assert.equal(typeof call.args.orderId, 'string');
      const result = await lookupOrder.invoke(call);
      assert.ok(ToolMessage.isInstance(result));
      messages.push(first, result);
      const second = await model.invoke(messages);
      assert.equal(second.tool_calls?.length ?? 0, 0);
      assert.match(second.text, /^Done: lookup_order returned .*shipped/);
      const runs = [await runOf(first), await runOf(second)];
      assert.notEqual(runs[0]?.id, runs[1]?.id);
      assertJournaled(runs[0] as RunRecordV1, usageOf(first));
      assertJournaled(runs[1] as RunRecordV1, usageOf(second));
    });
  });
}

describe('LangChain ChatOpenAI through the gateway, backed by the OpenAI wire format (loopback wire server)', () => {
  let wired: TestGateway;
  let wire: OpenAIWireServer;
  before(async () => {
    wire = await OpenAIWireServer.start();
    wired = await startTestGateway({
      environment: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: wire.baseURL },
      // A server at another base URL is `openai-compatible`, which Keel does not price unless told to.
      config: { version: 1, routes: [], prices: { version: 'wire-test', models: { 'openai-compatible:gpt-4o': { inputPerMillion: 2_500_000, outputPerMillion: 10_000_000 } } } },
    });
  });
  after(async () => {
    await wired.close();
    await wire.close();
  });

  test('invoke with bound tools: both tool calls of the answer reach LangChain, and the call is a priced run', async () => {
    wire.reply({ fixture: 'chat-tool-calls.json' });
    const weather = tool(({ city }) => `${city}: 18 C`, { name: 'get_weather', description: 'The weather in a city.', schema: z.object({ city: z.string(), unit: z.string() }) });
    const answer = await chatModel('openai:gpt-4o', wired).bindTools([weather]).invoke('Weather in Paris and Tokyo?');
    assert.deepEqual(answer.tool_calls?.map((call) => call.args), [{ city: 'Paris', unit: 'celsius' }, { city: 'Tokyo', unit: 'celsius' }]);
    const sent = wire.requests.at(-1)?.body as { model: string; tools: { function: { name: string } }[] };
    assert.equal(sent.model, 'gpt-4o');
    assert.deepEqual(sent.tools.map((entry) => entry.function.name), ['get_weather']);
    const run = await runOf(answer, wired);
    assert.equal(run.task, 'gateway:openai:gpt-4o');
    assertJournaled(run, usageOf(answer));
    assert.deepEqual(usageOf(answer), { inputTokens: 82, outputTokens: 51 });
  });

  test('stream: the wire server\'s chunks pass through the gateway to LangChain, text and usage', async () => {
    wire.reply({ fixture: 'chat-text-stream.sse' });
    let gathered: AIMessageChunk | undefined;
    for await (const chunk of await chatModel('openai:gpt-4o', wired).stream('Capital of France?')) gathered = gathered === undefined ? chunk : gathered.concat(chunk);
    assert.ok(gathered !== undefined && gathered.text.length > 0);
    const run = await runOf(gathered, wired);
    assertJournaled(run, usageOf(gathered));
  });
});

test('LangChain OpenAIEmbeddings through the gateway: documents and a query embedded, each call a priced run', async () => {
  const { OpenAIEmbeddings } = await import('@langchain/openai');
  const embeddings = new OpenAIEmbeddings({ model: 'sim:default', apiKey: 'not-checked-yet', maxRetries: 0, configuration: { baseURL: `${served.url}/v1` } });
  const before = (await served.gateway.keel.store.listRuns({ limit: 1_000 })).length;
  const documents = await embeddings.embedDocuments(['Where is A-1001?', 'Refund my order']);
  const query = await embeddings.embedQuery('Where is A-1001?');
  assert.equal(documents.length, 2);
  assert.equal(query.length, 64);
  assert.deepEqual(query, documents[0], 'a query embeds as the same text did among the documents');
  await served.gateway.settled();
  const runs = (await served.gateway.keel.store.listRuns({ limit: 1_000 })).slice(0, -before || undefined);
  assert.equal(runs.length, 2, 'one run per call');
  for (const run of runs) {
    assert.equal(run.status, 'ok');
    assert.ok(run.inputTokens > 0 && run.outputTokens === 0);
    assert.equal(run.costMicros, simDefaultCost({ inputTokens: run.inputTokens, outputTokens: 0 }));
  }
});
