/**
 * The real LangChain JS agent (`createAgent` from langchain@1) running its own loop with two tools
 * under `keelMiddleware`, inside Keel runs on a real SQLite store: on Keel's simulator as a
 * LangChain chat model, and on `ChatOpenAI` (@langchain/openai) against the loopback OpenAI wire server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ToolMessage } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';
import { MiddlewareError } from 'langchain';
import { CedarPolicyEngine } from '../access/index.ts';
import type { PolicyEngine } from '../access/index.ts';
import { createKeel } from '../agent/index.ts';
import type { Keel } from '../agent/index.ts';
import type { KeelConfig } from '../config/index.ts';
import { KeelError } from '../errors/index.ts';
import type { JournalEvent } from '../journal/index.ts';
import { parseEvent, verifyChain } from '../journal/index.ts';
import { OpenAIWireServer } from '../models/testing/index.ts';
import { SqliteStore } from '../store/index.ts';
import type { AgentOutput, PlannedCall, RefundAgentOptions } from './refund-agent.fixture.ts';
import { newObservations, refundAgentTask } from './refund-agent.fixture.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-langchain-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const lookupThenRefund: PlannedCall[] = [
  { toolName: 'lookup_order', input: { orderId: 'A-1' } },
  { toolName: 'issue_refund', input: { orderId: 'A-1', amountCents: 5_000 } },
];

const policies = CedarPolicyEngine.fromSources({
  schema: {
    path: 'keel.cedarschema',
    text: `entity User { tenant: String }; entity Tool { sideEffect: String, labels: Set<String> };
      action "call-tool" appliesTo { principal: [User], resource: [Tool], context: { task: String, tenant: String } };`,
  },
  policies: [
    { path: 'allow.cedar', text: '@id("tools") permit (principal, action == Action::"call-tool", resource);' },
    { path: 'mallory.cedar', text: '@id("no-refunds-for-mallory") forbid (principal == User::"mallory", action == Action::"call-tool", resource == Tool::"issue_refund");' },
  ],
});

type DeploymentOptions = Omit<RefundAgentOptions, 'runtime' | 'observations'> & { config?: KeelConfig; policies?: PolicyEngine };

async function deployment(name: string, options: DeploymentOptions) {
  const store = SqliteStore.open({ path: join(folder, `${name}.db`), durability: 'normal' });
  const observations = newObservations();
  const keel: Keel = await createKeel({ store, ...(options.config === undefined ? {} : { config: options.config }) });
  const { config: _config, ...agentOptions } = options;
  keel.engine.tasks.register(refundAgentTask({ ...agentOptions, runtime: () => keel.runtime, observations }));
  after(async () => {
    await keel.close();
    await store.close();
  });
  const journal = async (runId: string): Promise<JournalEvent[]> => (await store.readJournal(runId)).map(parseEvent);
  return { keel, store, observations, journal };
}

const ofType = <Type extends JournalEvent['type']>(events: JournalEvent[], type: Type) => events.filter((event): event is Extract<JournalEvent, { type: Type }> => event.type === type);

function stepEnds(events: JournalEvent[], kind: string) {
  return ofType(events, 'step-end').filter((event) => event.data.kind === kind);
}

describe('keel/langchain: a createAgent loop inside a Keel run', () => {
  for (const stream of [false, true]) {
    test(`every model call and tool call of the agent (${stream ? 'agent.stream' : 'agent.invoke'}) is in one run's journal with tokens and cost`, async () => {
      const { keel, store, observations, journal } = await deployment(stream ? 'journal-stream' : 'journal', { plan: lookupThenRefund, answer: 'Refunded A-1.', stream });
      const outcome = await keel.run('langchain-refunds', { message: 'Refund order A-1' }, { principal: 'ada', tenant: 'acme' });
      assert.equal(outcome.status, 'ok', outcome.reason);
      const output = outcome.output as AgentOutput;
      assert.equal(output.text, 'Refunded A-1.');
      assert.deepEqual(output.toolErrors, []);
      assert.equal(observations.lookups, 1);
      assert.equal(observations.refunds.length, 1);
      if (stream) assert.equal(observations.streamedText.join(''), 'Refunded A-1.', 'LangChain streamed the answer from the Keel chat model');

      const events = await journal(outcome.runId);
      verifyChain(await store.readJournal(outcome.runId));
      const models = stepEnds(events, 'model-call');
      assert.equal(models.length, 3, 'three model calls: two tool turns and the answer');
      assert.equal(observations.liveModelCalls, 3);
      for (const model of models) {
        assert.equal(model.data.name, 'langchain:sim:default');
        assert.ok(model.data.outcome.ok);
        assert.ok((model.data.usage?.inputTokens ?? 0) > 0 && (model.data.usage?.outputTokens ?? 0) > 0, 'usage recorded');
        assert.ok((model.data.cost?.micros ?? 0) > 0, 'cost recorded from the price table');
      }
      assert.deepEqual(stepEnds(events, 'tool-call').map((event) => event.data.name), ['lookup_order', 'issue_refund']);
      assert.equal(ofType(events, 'route-decision').length, 3);
      // The tool results reached the model: the last call was sent both, as tool results, not errors.
      assert.deepEqual(observations.toolResultsSeen.at(-1)?.map((result) => result.isError), [false, false]);
      // The refund ran with the idempotency key of its journaled step.
      const refundStart = ofType(events, 'step-start').find((event) => event.data.kind === 'tool-call' && event.data.name === 'issue_refund');
      assert.equal(observations.refunds[0]?.key, refundStart?.data.idempotencyKey);
      // The agent got Keel's answer with its cost; the run's totals are the sum of its model calls.
      const costs = observations.messages.filter((message) => message.getType() === 'ai').map((message) => (message.response_metadata as { keel?: { costMicros?: number } }).keel?.costMicros);
      assert.deepEqual(costs, models.map((event) => event.data.cost?.micros));
      const run = await store.getRun(outcome.runId);
      assert.equal(run?.costMicros, models.reduce((sum, event) => sum + (event.data.cost?.micros ?? 0), 0));
      assert.equal(run?.inputTokens, models.reduce((sum, event) => sum + (event.data.usage?.inputTokens ?? 0), 0));
    });
  }

  test('two tool calls the model makes at once are decided and run one after the other, in the order LangChain started them', async () => {
    const { keel, observations, journal } = await deployment('parallel', { plan: [lookupThenRefund] });
    const outcome = await keel.run('langchain-refunds', { message: 'Refund order A-1' }, { principal: 'ada', tenant: 'acme' });
    assert.equal(outcome.status, 'ok', outcome.reason);
    assert.equal(observations.refunds.length, 1);
    const steps = ofType(await journal(outcome.runId), 'step-start').map((event) => event.data.name);
    assert.deepEqual(steps, ['langchain:sim:default', 'tool-decision:lookup_order', 'lookup_order', 'tool-decision:issue_refund', 'issue_refund', 'langchain:sim:default']);
    // Both results went back to the model in one tool turn.
    assert.equal(observations.toolResultsSeen.at(-1)?.length, 2);
  });

  test('a tool call the policy denies never executes; LangChain hands the model a ToolMessage with the error and the loop goes on', async () => {
    const { keel, observations, journal } = await deployment('denied', { plan: lookupThenRefund, answer: 'I could not refund it.', policies });
    const outcome = await keel.run('langchain-refunds', { message: 'Refund order A-1' }, { principal: 'mallory', tenant: 'acme' });
    assert.equal(outcome.status, 'ok', outcome.reason);
    assert.equal(observations.refunds.length, 0, 'the refund never ran');
    assert.equal(observations.lookups, 1, 'the allowed lookup ran');
    const refusal = observations.messages.find((message): message is ToolMessage => ToolMessage.isInstance(message) && message.name === 'issue_refund');
    assert.equal(refusal?.status, 'error');
    assert.match(refusal?.text ?? '', /issue_refund was refused \(policy-denied: no-refunds-for-mallory\)/);
    assert.equal((outcome.output as AgentOutput).text, 'I could not refund it.');
    // The loop went on: the model's third call was sent the refusal as the tool's error.
    assert.equal(observations.liveModelCalls, 3);
    const lastSeen = observations.toolResultsSeen.at(-1) ?? [];
    assert.deepEqual(lastSeen.map((result) => result.isError), [false, true]);
    assert.match(JSON.stringify(lastSeen[1]?.output), /no-refunds-for-mallory/);
    const events = await journal(outcome.runId);
    const denial = ofType(events, 'policy-decision').find((event) => event.data.tool === 'issue_refund');
    assert.equal(denial?.data.effect, 'deny');
    assert.deepEqual(stepEnds(events, 'tool-call').map((event) => event.data.name), ['lookup_order']);
  });

  test('a tool that throws is a tool error told to the model, as a ToolMessage with the error; the loop goes on', async () => {
    const { keel, observations, journal } = await deployment('tool-error', { plan: [lookupThenRefund[0] as PlannedCall], answer: 'The order service is down.', failingLookup: true });
    const outcome = await keel.run('langchain-refunds', { message: 'Refund order A-1' }, { principal: 'ada', tenant: 'acme' });
    assert.equal(outcome.status, 'ok', outcome.reason);
    assert.equal(observations.lookups, 1);
    const failure = observations.messages.find((message): message is ToolMessage => ToolMessage.isInstance(message) && message.name === 'lookup_order');
    assert.equal(failure?.status, 'error');
    assert.match(failure?.text ?? '', /lookup_order failed: .*the order service is down/);
    assert.deepEqual(observations.toolResultsSeen.at(-1)?.map((result) => result.isError), [true]);
    const step = stepEnds(await journal(outcome.runId), 'tool-call')[0];
    assert.equal(step?.data.outcome.ok, false, 'the failed call is journaled as failed');
  });

  test('a budget stop ends the agent loop with LangChain\'s MiddlewareError, and the run ends as a budget stop', async () => {
    // A run budget of exactly the first call's reservation: the second (a longer prompt) cannot fit beside what the first spent.
    const probe = await deployment('budget-probe', { plan: lookupThenRefund, config: { version: 1, routes: [], budgets: [{ scope: 'run', micros: 1_000_000 }] } });
    const probed = await probe.keel.run('langchain-refunds', { message: 'Refund order A-1' });
    assert.equal(probed.status, 'ok', probed.reason);
    const budget = ofType(await probe.journal(probed.runId), 'budget-decision')[0]?.data.reservedMicros ?? 0;
    assert.ok(budget > 0);

    const { keel, observations, journal } = await deployment('budget', { plan: lookupThenRefund, config: { version: 1, routes: [], budgets: [{ scope: 'run', micros: budget }] } });
    const outcome = await keel.run('langchain-refunds', { message: 'Refund order A-1' });
    assert.ok(MiddlewareError.isInstance(observations.error), `agent.invoke threw LangChain's MiddlewareError, got ${String(observations.error)}`);
    const cause = (observations.error as Error).cause;
    assert.ok(cause instanceof KeelError && cause.code === 'budget-exceeded', `inside it, Keel's budget stop: ${String(cause)}`);
    assert.equal(outcome.status, 'escalated');
    assert.match(outcome.reason ?? '', /budget exhausted/);
    assert.equal(observations.refunds.length, 0, 'the loop stopped before the refund');
    assert.deepEqual(
      ofType(await journal(outcome.runId), 'budget-decision').map((event) => event.data.outcome),
      ['reserved', 'refused'],
    );
    assert.equal(observations.liveModelCalls, 1, 'the refused call never reached the model');
  });

  test('a refund that needs approval parks the run; once approved, the resumed agent replays to it and it runs once', async () => {
    const { keel, observations, journal } = await deployment('approval', { plan: lookupThenRefund, approvalAboveCents: 1_000 });
    const waiting = await keel.run('langchain-refunds', { message: 'Refund order A-1' }, { principal: 'ada', tenant: 'acme' });
    assert.equal(waiting.status, 'waiting', waiting.reason);
    assert.match(waiting.reason ?? '', /issue_refund: a refund of 5000 cents is above 1000/);
    assert.equal(observations.refunds.length, 0, 'nothing is refunded before a person decides');
    assert.equal(observations.liveModelCalls, 2);

    const resumed = await keel.decide(waiting.runId, { decision: 'approve', decider: 'lead' });
    assert.ok('status' in resumed && resumed.status === 'ok', JSON.stringify(resumed));
    assert.equal(observations.refunds.length, 1);
    assert.equal(observations.lookups, 1, 'the lookup was replayed from the journal, not run again');
    assert.equal(observations.liveModelCalls, 3, 'the two model calls before the wait were replayed, not sent again');
    const events = await journal(waiting.runId);
    assert.deepEqual(stepEnds(events, 'tool-call').map((event) => event.data.name), ['lookup_order', 'issue_refund']);
    assert.equal(ofType(events, 'human-decision')[0]?.data.decider, 'lead');
  });

  test("ChatOpenAI's 429 is retried by Keel as the route says (retry-after honoured), inside the same journaled step", async () => {
    const wire = await OpenAIWireServer.start();
    after(() => wire.close());
    wire.reply({ fixture: 'error-rate-limit.json', status: 429, headers: { 'retry-after-ms': '5' } }, { fixture: 'chat-text.json' });
    const model = new ChatOpenAI({ model: 'gpt-4o', apiKey: 'sk-test', maxRetries: 0, configuration: { baseURL: wire.baseURL } });
    const { keel, journal } = await deployment('chat-openai-429', { plan: [], model, weatherTools: true });
    const outcome = await keel.run('langchain-refunds', { message: 'Capital of France?' });
    assert.equal(outcome.status, 'ok', outcome.reason);
    assert.equal(wire.requests.length, 2, 'one retry, by Keel (the client itself does not retry)');
    const events = await journal(outcome.runId);
    assert.deepEqual(ofType(events, 'model-attempt-end').map((event) => event.data.outcome), ['error', 'ok']);
    assert.deepEqual(ofType(events, 'retry-wait').map((event) => event.data.reason), ['retry-after'], 'the wait the provider asked for reached Keel');
    assert.equal(stepEnds(events, 'model-call').length, 1);
  });

  test('agent.stream with ChatOpenAI: the provider\'s tokens stream through the middleware to the agent\'s stream, and the step is journaled whole with usage and cost', async () => {
    const wire = await OpenAIWireServer.start();
    after(() => wire.close());
    wire.reply({ fixture: 'chat-text-stream.sse' });
    const model = new ChatOpenAI({ model: 'gpt-4o', apiKey: 'sk-test', maxRetries: 0, configuration: { baseURL: wire.baseURL } });
    const { keel, observations, journal } = await deployment('chat-openai-stream', { plan: [], model, weatherTools: true, stream: true });
    const outcome = await keel.run('langchain-refunds', { message: 'Say hello' });
    assert.equal(outcome.status, 'ok', outcome.reason);
    assert.equal((wire.requests[0]?.body as { stream?: boolean }).stream, true, 'LangChain asked the provider for a stream');
    const text = (outcome.output as AgentOutput).text;
    assert.ok(observations.streamedText.length > 1, `streamed in chunks, got ${observations.streamedText.length}`);
    assert.equal(observations.streamedText.join(''), text);
    const [step] = stepEnds(await journal(outcome.runId), 'model-call');
    assert.deepEqual([step?.data.usage?.inputTokens, step?.data.usage?.outputTokens], [19, 10]);
    assert.ok((step?.data.cost?.micros ?? 0) > 0);
  });

  test('ChatOpenAI (@langchain/openai) against the loopback OpenAI wire server is governed the same way: priced as openai:gpt-4o in one run', async () => {
    const wire = await OpenAIWireServer.start();
    after(() => wire.close());
    // The model asks for two weather look-ups at once, then answers; the agent's tools here are the fixture's.
    wire.reply({ fixture: 'chat-tool-calls.json' }, { fixture: 'chat-text.json' });
    const model = new ChatOpenAI({ model: 'gpt-4o', apiKey: 'sk-test', maxRetries: 0, configuration: { baseURL: wire.baseURL } });
    const { keel, store, observations, journal } = await deployment('chat-openai', { plan: [], model, weatherTools: true });
    const outcome = await keel.run('langchain-refunds', { message: 'Weather in Paris and Tokyo?' }, { principal: 'ada', tenant: 'acme' });
    assert.equal(outcome.status, 'ok', outcome.reason);
    assert.equal((outcome.output as AgentOutput).text, 'The capital of France is Paris.');
    assert.equal(wire.requests.length, 2);
    // The second request carried both tool results back, as LangChain sends them.
    const sent = wire.requests[1]?.body as { messages: { role: string; tool_call_id?: string }[] };
    assert.deepEqual(sent.messages.filter((message) => message.role === 'tool').map((message) => message.tool_call_id), ['call_9pXkW2mQ4rT7vB1nH8sL3dFz', 'call_4hJ6tR0yU2iO8pA5sD7fG1kL']);
    assert.equal(observations.weatherLookups, 2);
    const events = await journal(outcome.runId);
    const models = stepEnds(events, 'model-call');
    assert.deepEqual(models.map((event) => event.data.name), ['langchain:openai:gpt-4o', 'langchain:openai:gpt-4o']);
    assert.deepEqual(models.map((event) => [event.data.usage?.inputTokens, event.data.usage?.outputTokens]), [[82, 51], [1310, 8]]);
    for (const event of models) assert.ok((event.data.cost?.micros ?? 0) > 0);
    assert.deepEqual(stepEnds(events, 'tool-call').map((event) => event.data.name), ['get_weather', 'get_weather']);
    const run = await store.getRun(outcome.runId);
    assert.equal(run?.costMicros, models.reduce((sum, event) => sum + (event.data.cost?.micros ?? 0), 0));
  });
});
