/**
 * The real AI SDK (`ai` generateText / streamText) running its own loop with two governed tools
 * against the Keel simulator, inside Keel runs on a real SQLite store.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { APICallError } from '@ai-sdk/provider';
import { CedarPolicyEngine } from '../access/index.ts';
import type { PolicyEngine } from '../access/index.ts';
import { createKeel } from '../agent/index.ts';
import type { Keel } from '../agent/index.ts';
import type { KeelConfig } from '../config/index.ts';
import type { JournalEvent } from '../journal/index.ts';
import { parseEvent, verifyChain } from '../journal/index.ts';
import { SqliteStore } from '../store/index.ts';
import type { LoopOutput, PlannedCall } from './refund-loop.fixture.ts';
import { newObservations, RefundLedger, refundLoopTask } from './refund-loop.fixture.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-ai-sdk-'));
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

async function deployment(name: string, options: { plan: (PlannedCall | PlannedCall[])[]; policies?: PolicyEngine; stream?: boolean; config?: KeelConfig; approvalAboveCents?: number }) {
  const store = SqliteStore.open({ path: join(folder, `${name}.db`), durability: 'normal' });
  const ledger = new RefundLedger(join(folder, `${name}-refunds.db`));
  const observations = newObservations();
  const keel: Keel = await createKeel({ store, ...(options.config === undefined ? {} : { config: options.config }) });
  keel.engine.tasks.register(
    refundLoopTask({
      runtime: () => keel.runtime,
      ledger,
      plan: options.plan,
      answer: 'Refunded A-1.',
      observations,
      maxOutputTokens: 200,
      ...(options.policies === undefined ? {} : { policies: options.policies }),
      ...(options.stream === undefined ? {} : { stream: options.stream }),
      ...(options.approvalAboveCents === undefined ? {} : { approvalAboveCents: options.approvalAboveCents }),
    }),
  );
  after(async () => {
    await keel.close();
    await store.close();
    ledger.close();
  });
  const journal = async (runId: string): Promise<JournalEvent[]> => (await store.readJournal(runId)).map(parseEvent);
  return { keel, store, ledger, observations, journal };
}

const ofType = <Type extends JournalEvent['type']>(events: JournalEvent[], type: Type) => events.filter((event): event is Extract<JournalEvent, { type: Type }> => event.type === type);

function stepEnds(events: JournalEvent[], kind: string) {
  return ofType(events, 'step-end').filter((event) => event.data.kind === kind);
}

describe('keel/ai-sdk inside a Keel run', () => {
  for (const stream of [false, true]) {
    test(`every model call and tool call of a ${stream ? 'streamText' : 'generateText'} loop is in the run's journal with tokens and cost`, async () => {
      const { keel, store, ledger, observations, journal } = await deployment(stream ? 'journal-stream' : 'journal', { plan: lookupThenRefund, stream });
      const outcome = await keel.run('ai-sdk-refunds', { message: 'Refund order A-1' }, { principal: 'ada', tenant: 'acme' });
      assert.equal(outcome.status, 'ok', outcome.reason);
      const output = outcome.output as LoopOutput;
      assert.equal(output.text, 'Refunded A-1.');
      assert.equal(output.steps, 3);
      assert.deepEqual(output.toolErrors, []);
      assert.equal(ledger.refunds().length, 1);

      const events = await journal(outcome.runId);
      verifyChain(await store.readJournal(outcome.runId));
      const models = stepEnds(events, 'model-call');
      assert.equal(models.length, 3, 'three model calls, one per AI SDK step');
      assert.equal(observations.liveModelCalls, 3);
      for (const model of models) {
        assert.equal(model.data.name, 'ai-sdk:sim:default');
        assert.ok(model.data.outcome.ok);
        assert.ok((model.data.usage?.inputTokens ?? 0) > 0 && (model.data.usage?.outputTokens ?? 0) > 0, 'usage recorded');
        assert.ok((model.data.cost?.micros ?? 0) > 0, 'cost recorded from the price table');
      }
      assert.deepEqual(stepEnds(events, 'tool-call').map((event) => event.data.name), ['lookup_order', 'issue_refund']);
      assert.equal(ofType(events, 'budget-decision').length, 0, 'no budget configured, none reserved');
      assert.equal(ofType(events, 'route-decision').length, 3);
      // The refund ran with the idempotency key of its journaled step.
      const refundStart = ofType(events, 'step-start').find((event) => event.data.kind === 'tool-call' && event.data.name === 'issue_refund');
      assert.equal(ledger.refunds()[0]?.key, refundStart?.data.idempotencyKey);
      // The run's totals are the sum of its model calls.
      const run = await store.getRun(outcome.runId);
      assert.equal(run?.costMicros, models.reduce((sum, event) => sum + (event.data.cost?.micros ?? 0), 0));
      assert.equal(run?.inputTokens, models.reduce((sum, event) => sum + (event.data.usage?.inputTokens ?? 0), 0));
    });
  }

  test('two tool calls the model makes at once are decided and run one after the other, in the order the AI SDK started them', async () => {
    const { keel, ledger, journal } = await deployment('parallel', { plan: [lookupThenRefund] });
    const outcome = await keel.run('ai-sdk-refunds', { message: 'Refund order A-1' }, { principal: 'ada', tenant: 'acme' });
    assert.equal(outcome.status, 'ok', outcome.reason);
    assert.equal((outcome.output as LoopOutput).steps, 2);
    assert.equal(ledger.refunds().length, 1);
    const steps = ofType(await journal(outcome.runId), 'step-start').map((event) => event.data.name);
    assert.deepEqual(steps, ['ai-sdk:sim:default', 'tool-decision:lookup_order', 'lookup_order', 'tool-decision:issue_refund', 'issue_refund', 'ai-sdk:sim:default']);
  });

  test('a tool call the policy denies never executes; the model sees the error and the loop goes on', async () => {
    const { keel, ledger, observations, journal } = await deployment('denied', { plan: lookupThenRefund, policies });
    const outcome = await keel.run('ai-sdk-refunds', { message: 'Refund order A-1' }, { principal: 'mallory', tenant: 'acme' });
    assert.equal(outcome.status, 'ok', outcome.reason);
    assert.equal(ledger.refunds().length, 0, 'the refund never ran');
    const output = outcome.output as LoopOutput;
    assert.equal(output.toolErrors.length, 1);
    assert.match(output.toolErrors[0] ?? '', /issue_refund was refused \(policy-denied: no-refunds-for-mallory\)/);
    // The loop went on: the model's third call was sent the refusal as the tool's error.
    assert.equal(observations.liveModelCalls, 3);
    const lastSeen = observations.toolResultsSeen.at(-1) ?? [];
    assert.equal(lastSeen.length, 2);
    assert.match(JSON.stringify(lastSeen[1]), /"isError":true/);
    assert.match(JSON.stringify(lastSeen[1]), /no-refunds-for-mallory/);
    const events = await journal(outcome.runId);
    const denial = ofType(events, 'policy-decision').find((event) => event.data.tool === 'issue_refund');
    assert.equal(denial?.data.effect, 'deny');
    assert.deepEqual(stepEnds(events, 'tool-call').map((event) => event.data.name), ['lookup_order']);
  });

  for (const stream of [false, true]) {
  test(`a refund that needs approval parks the ${stream ? 'streamText' : 'generateText'} loop's run; once approved, the resumed loop replays to it and it runs once`, async () => {
    const { keel, ledger, observations, journal } = await deployment(stream ? 'approval-stream' : 'approval', { plan: lookupThenRefund, approvalAboveCents: 1_000, stream });
    const waiting = await keel.run('ai-sdk-refunds', { message: 'Refund order A-1' }, { principal: 'ada', tenant: 'acme' });
    assert.equal(waiting.status, 'waiting', waiting.reason);
    assert.match(waiting.reason ?? '', /issue_refund: a refund of 5000 cents is above 1000/);
    assert.equal(ledger.refunds().length, 0, 'nothing is refunded before a person decides');
    assert.equal(observations.liveModelCalls, 2, 'the loop stopped at the approval: no third model call');

    const resumed = await keel.decide(waiting.runId, { decision: 'approve', decider: 'lead' });
    assert.ok('status' in resumed && resumed.status === 'ok', JSON.stringify(resumed));
    assert.equal(ledger.refunds().length, 1);
    assert.deepEqual((resumed.output as LoopOutput).toolErrors, []);
    assert.equal(observations.liveModelCalls, 3, 'the two calls before the wait were replayed, not sent again');
    const events = await journal(waiting.runId);
    assert.deepEqual(stepEnds(events, 'tool-call').map((event) => event.data.name), ['lookup_order', 'issue_refund']);
    assert.equal(ofType(events, 'human-decision')[0]?.data.decider, 'lead');
  });
  }

  test('a budget stop ends the loop with the AI SDK APICallError, and the run ends as a budget stop', async () => {
    // A run budget of exactly the first call's reservation: the second (a longer prompt) cannot fit beside what the first spent.
    const probe = await deployment('budget-probe', { plan: lookupThenRefund, config: { version: 1, routes: [], budgets: [{ scope: 'run', micros: 1_000_000 }] } });
    const probed = await probe.keel.run('ai-sdk-refunds', { message: 'Refund order A-1' });
    assert.equal(probed.status, 'ok', probed.reason);
    const budget = ofType(await probe.journal(probed.runId), 'budget-decision')[0]?.data.reservedMicros ?? 0;
    assert.ok(budget > 0);

    const { keel, ledger, observations, journal } = await deployment('budget', { plan: lookupThenRefund, config: { version: 1, routes: [], budgets: [{ scope: 'run', micros: budget }] } });
    const outcome = await keel.run('ai-sdk-refunds', { message: 'Refund order A-1' });
    assert.ok(APICallError.isInstance(observations.error), `the framework threw its APICallError, got ${String(observations.error)}`);
    assert.equal((observations.error).isRetryable, false);
    assert.equal((observations.error).statusCode, 402);
    assert.equal(outcome.status, 'escalated');
    assert.match(outcome.reason ?? '', /budget exhausted/);
    assert.equal(ledger.refunds().length, 0, 'the loop stopped before the refund');
    const events = await journal(outcome.runId);
    assert.deepEqual(
      ofType(events, 'budget-decision').map((event) => event.data.outcome),
      ['reserved', 'refused'],
    );
    assert.equal(observations.liveModelCalls, 1, 'the refused call never reached the model');
  });
});
