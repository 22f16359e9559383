/**
 * The real OpenAI Agents SDK (`@openai/agents` Runner) running its own loop with two governed
 * tools against the Keel simulator through `keelModelProvider`, inside Keel runs on a real SQLite
 * store, with `KeelTraceProcessor` writing the SDK's spans into each run's journal.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTraceProcessors, setTracingDisabled } from '@openai/agents';
import { CedarPolicyEngine } from '../access/index.ts';
import type { PolicyEngine } from '../access/index.ts';
import { createKeel } from '../agent/index.ts';
import type { Keel } from '../agent/index.ts';
import type { KeelConfig } from '../config/index.ts';
import { KeelError } from '../errors/index.ts';
import type { JournalEvent } from '../journal/index.ts';
import { parseEvent, verifyChain } from '../journal/index.ts';
import { SqliteStore } from '../store/index.ts';
import { KeelTraceProcessor } from './index.ts';
import type { AgentLoopOutput, PlannedCall } from './refund-agent.fixture.ts';
import { newObservations, refundAgentTask } from './refund-agent.fixture.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-openai-agents-'));
after(() => rmSync(folder, { recursive: true, force: true }));

before(() => {
  setTracingDisabled(false);
  setTraceProcessors([new KeelTraceProcessor()]);
});
after(() => setTraceProcessors([]));

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

async function deployment(name: string, options: { plan: (PlannedCall | PlannedCall[])[]; policies?: PolicyEngine; stream?: boolean; config?: KeelConfig; approvalAboveCents?: number }) {
  const store = SqliteStore.open({ path: join(folder, `${name}.db`), durability: 'normal' });
  const observations = newObservations();
  const keel: Keel = await createKeel({ store, ...(options.config === undefined ? {} : { config: options.config }) });
  keel.engine.tasks.register(
    refundAgentTask({
      runtime: () => keel.runtime,
      plan: options.plan,
      answer: 'Refunded A-1.',
      observations,
      maxTokens: 200,
      ...(options.policies === undefined ? {} : { policies: options.policies }),
      ...(options.stream === undefined ? {} : { stream: options.stream }),
      ...(options.approvalAboveCents === undefined ? {} : { approvalAboveCents: options.approvalAboveCents }),
    }),
  );
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

describe('keel/openai-agents inside a Keel run', () => {
  for (const stream of [false, true]) {
    test(`every model call and tool call of the SDK's ${stream ? 'streamed ' : ''}loop is in one run's journal with tokens and cost, beside the SDK's spans`, async () => {
      const { keel, store, observations, journal } = await deployment(stream ? 'journal-stream' : 'journal', { plan: lookupThenRefund, stream });
      const outcome = await keel.run('openai-agents-refunds', { message: 'Refund order A-1' }, { principal: 'ada', tenant: 'acme' });
      assert.equal(outcome.status, 'ok', outcome.reason);
      const output = outcome.output as AgentLoopOutput;
      assert.equal(output.text, 'Refunded A-1.');
      assert.equal(output.turns, 3);
      assert.equal(observations.refunds.length, 1);
      assert.equal(observations.lookups, 1);

      const events = await journal(outcome.runId);
      verifyChain(await store.readJournal(outcome.runId));
      assert.equal(events.at(-1)?.type, 'run-end', 'nothing is journaled after the run ended');
      const models = stepEnds(events, 'model-call');
      assert.equal(models.length, 3, 'three model calls, one per turn of the SDK loop');
      assert.equal(observations.liveModelCalls, 3);
      for (const model of models) {
        assert.equal(model.data.name, 'openai-agents:sim:default');
        assert.ok(model.data.outcome.ok);
        assert.ok((model.data.usage?.inputTokens ?? 0) > 0 && (model.data.usage?.outputTokens ?? 0) > 0, 'usage recorded');
        assert.ok((model.data.cost?.micros ?? 0) > 0, 'cost recorded from the price table');
      }
      assert.deepEqual(stepEnds(events, 'tool-call').map((event) => event.data.name), ['lookup_order', 'issue_refund']);
      // The refund ran with the idempotency key of its journaled step.
      const refundStart = ofType(events, 'step-start').find((event) => event.data.kind === 'tool-call' && event.data.name === 'issue_refund');
      assert.equal(observations.refunds[0], refundStart?.data.idempotencyKey);
      // The tool saw the lookup's output as the SDK gave it to the model.
      assert.match(JSON.stringify(observations.toolResultsSeen.at(-1)), /delivered/);
      const run = await store.getRun(outcome.runId);
      assert.equal(run?.costMicros, models.reduce((sum, event) => sum + (event.data.cost?.micros ?? 0), 0));
      assert.equal(run?.inputTokens, models.reduce((sum, event) => sum + (event.data.usage?.inputTokens ?? 0), 0));

      // The SDK's own spans, in the same journal: its agent, its two function calls, Keel's three generations.
      const spans = ofType(events, 'span-end');
      assert.ok(spans.every((span) => span.data.source === 'openai-agents' && span.data.traceId === spans[0]?.data.traceId), 'one trace');
      assert.deepEqual(spans.filter((span) => span.data.kind === 'function').map((span) => span.data.name), ['lookup_order', 'issue_refund']);
      assert.equal(spans.filter((span) => span.data.kind === 'agent' && span.data.name === 'Refunds').length, 1);
      const generations = spans.filter((span) => span.data.kind === 'generation');
      assert.equal(generations.length, 3);
      assert.deepEqual(generations.map((span) => (span.data.data as { usage: { details: { keel_cost_micros: number } } }).usage.details.keel_cost_micros), models.map((model) => model.data.cost?.micros));
    });
  }

  test('a tool call the policy denies never executes; the model is told as the tool output, the function span carries the error, and the loop goes on', async () => {
    const { keel, observations, journal } = await deployment('denied', { plan: lookupThenRefund, policies });
    const outcome = await keel.run('openai-agents-refunds', { message: 'Refund order A-1' }, { principal: 'mallory', tenant: 'acme' });
    assert.equal(outcome.status, 'ok', outcome.reason);
    assert.equal(observations.refunds.length, 0, 'the refund never ran');
    const output = outcome.output as AgentLoopOutput;
    assert.equal(output.turns, 3, 'the loop went on after the refusal');
    assert.match(output.toolOutputs[1] ?? '', /^Keel refused this call: issue_refund was refused \(policy-denied: no-refunds-for-mallory\)/);
    assert.match(JSON.stringify(observations.toolResultsSeen.at(-1)), /no-refunds-for-mallory/);
    const events = await journal(outcome.runId);
    const denial = ofType(events, 'policy-decision').find((event) => event.data.tool === 'issue_refund');
    assert.equal(denial?.data.effect, 'deny');
    assert.deepEqual(stepEnds(events, 'tool-call').map((event) => event.data.name), ['lookup_order']);
    const refundSpan = ofType(events, 'span-end').find((event) => event.data.kind === 'function' && event.data.name === 'issue_refund');
    assert.equal(refundSpan?.data.error?.message, 'Keel refused the call of issue_refund');
  });

  test('a refund that needs approval parks the run; once approved, the resumed SDK loop replays to it and it runs once', async () => {
    const { keel, observations, journal } = await deployment('approval', { plan: lookupThenRefund, approvalAboveCents: 1_000 });
    const waiting = await keel.run('openai-agents-refunds', { message: 'Refund order A-1' }, { principal: 'ada', tenant: 'acme' });
    assert.equal(waiting.status, 'waiting', waiting.reason);
    assert.match(waiting.reason ?? '', /issue_refund: a refund of 5000 cents is above 1000/);
    assert.equal(observations.refunds.length, 0, 'nothing is refunded before a person decides');
    assert.equal(observations.liveModelCalls, 2, 'the loop stopped at the approval: no third model call');

    const resumed = await keel.decide(waiting.runId, { decision: 'approve', decider: 'lead' });
    assert.ok('status' in resumed && resumed.status === 'ok', JSON.stringify(resumed));
    assert.equal(observations.refunds.length, 1);
    assert.equal(observations.lookups, 1, 'the lookup was replayed, not run again');
    assert.equal(observations.liveModelCalls, 3, 'the two calls before the wait were replayed, not sent again');
    const events = await journal(waiting.runId);
    assert.deepEqual(stepEnds(events, 'tool-call').map((event) => event.data.name), ['lookup_order', 'issue_refund']);
    assert.equal(ofType(events, 'human-decision')[0]?.data.decider, 'lead');
  });

  test('a budget stop ends the SDK loop with the error its run() rejects with, and the run ends as a budget stop', async () => {
    // A run budget of exactly the first call's reservation: the second (a longer prompt) cannot fit beside what the first spent.
    const probe = await deployment('budget-probe', { plan: lookupThenRefund, config: { version: 1, routes: [], budgets: [{ scope: 'run', micros: 1_000_000 }] } });
    const probed = await probe.keel.run('openai-agents-refunds', { message: 'Refund order A-1' });
    assert.equal(probed.status, 'ok', probed.reason);
    const budget = ofType(await probe.journal(probed.runId), 'budget-decision')[0]?.data.reservedMicros ?? 0;
    assert.ok(budget > 0);

    const { keel, observations, journal } = await deployment('budget', { plan: lookupThenRefund, config: { version: 1, routes: [], budgets: [{ scope: 'run', micros: budget }] } });
    const outcome = await keel.run('openai-agents-refunds', { message: 'Refund order A-1' });
    const error = observations.error;
    assert.ok(error instanceof KeelError, `the SDK's run() rejected with Keel's error, got ${String(error)}`);
    assert.equal(error.code, 'budget-exceeded');
    assert.equal(outcome.status, 'escalated');
    assert.match(outcome.reason ?? '', /budget exhausted/);
    assert.equal(observations.refunds.length, 0, 'the loop stopped before the refund');
    assert.equal(observations.liveModelCalls, 1, 'the refused call never reached the model');
    const events = await journal(outcome.runId);
    assert.deepEqual(ofType(events, 'budget-decision').map((event) => event.data.outcome), ['reserved', 'refused']);
    const failedGeneration = ofType(events, 'span-end').find((event) => event.data.kind === 'generation' && event.data.error !== undefined);
    assert.deepEqual(failedGeneration?.data.error?.data, { code: 'budget-exceeded' });
  });
});
