import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { z } from 'zod';
import { CedarPolicyEngine } from '../access/index.ts';
import { defineOutputContract } from '../contracts/index.ts';
import type { JournalEvent } from '../journal/index.ts';
import { parseEvent } from '../journal/index.ts';
import type { ScriptInput, SimulatedTurn } from '../models/index.ts';
import type { JsonValue } from '../spec/index.ts';
import { SqliteStore } from '../store/index.ts';
import { defineTool } from '../tools/index.ts';
import type { AgentDeclaration, AgentTool } from './index.ts';
import { createKeel, defineAgent } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-agent-'));
after(() => rmSync(folder, { recursive: true, force: true }));

/** What the world saw: every execution of a tool, in order. */
const executed: { tool: string; args: JsonValue; key: string }[] = [];

const orders: Record<string, { id: string; tenant: string; totalCents: number }> = {
  'A-1': { id: 'A-1', tenant: 'acme', totalCents: 5_000 },
  'B-1': { id: 'B-1', tenant: 'globex', totalCents: 9_000 },
};

const lookupOrder: AgentTool = Object.assign(
  defineTool({
    name: 'lookup_order',
    version: '1',
    owner: 'tests',
    description: 'Look an order up.',
    inputSchema: z.object({ orderId: z.string() }),
    outputSchema: z.object({ id: z.string(), tenant: z.string(), totalCents: z.number() }).nullable(),
    scopes: ['orders:read'],
    sideEffect: 'read',
    timeoutMs: 1_000,
    execute: (args, info) => {
      executed.push({ tool: 'lookup_order', args, key: info.idempotencyKey });
      return orders[args.orderId] ?? null;
    },
  }),
  { access: { resource: (args: Record<string, JsonValue>) => {
      const orderId = typeof args.orderId === 'string' ? args.orderId : '';
      const tenant = orders[orderId]?.tenant ?? 'unknown';
      return { type: 'Order', id: orderId, tenant, attributes: { tenant } };
    } } },
);

const issueRefund = defineTool({
  name: 'issue_refund',
  version: '1',
  owner: 'tests',
  description: 'Refund an order.',
  inputSchema: z.object({ orderId: z.string(), amountCents: z.number().int().positive() }),
  outputSchema: z.object({ refundId: z.string() }),
  scopes: ['refunds:write'],
  sideEffect: 'write',
  deduplicatesOnKey: true,
  timeoutMs: 1_000,
  approval: { when: (args) => (args.amountCents > 10_000 ? `refund of ${args.amountCents} cents is above 10000` : undefined) },
  execute: (args, info) => {
    executed.push({ tool: 'issue_refund', args, key: info.idempotencyKey });
    return { refundId: `rf-${info.idempotencyKey}` };
  },
}) as AgentTool;

/** The scenario: the calls in `plan`, one a turn, then `answer`. */
function planned(plan: { toolName: string; input: JsonValue }[], answer: string): (input: ScriptInput) => SimulatedTurn {
  return ({ request }) => {
    const done = request.messages.filter((message) => message.role === 'tool').length;
    const next = plan[done];
    return next === undefined ? { type: 'text', text: answer } : { type: 'tool-calls', calls: [next] };
  };
}

const answerContract = defineOutputContract({ name: 'refund-answer', version: '1', schema: z.object({ answer: z.string().min(1), refundCents: z.number().int().min(0) }) });

const policies = CedarPolicyEngine.fromSources({
  schema: {
    path: 'keel.cedarschema',
    text: `entity User { tenant: String }; entity Tool { sideEffect: String, labels: Set<String> }; entity Order { tenant: String };
      action "call-tool" appliesTo { principal: [User], resource: [Tool, Order], context: { task: String, tenant: String } };`,
  },
  policies: [
    { path: 'allow.cedar', text: '@id("tools") permit (principal, action == Action::"call-tool", resource);' },
    { path: 'mallory.cedar', text: '@id("no-refunds-for-mallory") forbid (principal == User::"mallory", action == Action::"call-tool", resource == Tool::"issue_refund");' },
  ],
});

function agent(overrides: Partial<AgentDeclaration> & { script: (input: ScriptInput) => SimulatedTurn }) {
  const { script, ...rest } = overrides;
  return defineAgent({
    name: 'refunds',
    version: '1',
    model: 'sim:default',
    instructions: 'Refund orders for {{tenant}}.',
    tools: [lookupOrder, issueRefund],
    policies,
    output: answerContract,
    simulator: { script },
    ...rest,
  });
}

async function keelWith(name: string, definition: ReturnType<typeof agent>) {
  const store = SqliteStore.open({ path: join(folder, `${name}.db`), durability: 'normal' });
  const keel = await createKeel({ store, agents: [definition] });
  after(async () => {
    await keel.close();
    await store.close();
  });
  const journal = async (runId: string): Promise<JournalEvent[]> => (await store.readJournal(runId)).map(parseEvent);
  return { keel, journal, store };
}

const ofType = <Type extends JournalEvent['type']>(events: JournalEvent[], type: Type) => events.filter((event): event is Extract<JournalEvent, { type: Type }> => event.type === type);

describe('the governed agent loop', () => {
  test('looks up, refunds and answers under its contract; every decision is in the journal', async () => {
    const refundA1 = planned([{ toolName: 'lookup_order', input: { orderId: 'A-1' } }, { toolName: 'issue_refund', input: { orderId: 'A-1', amountCents: 5_000 } }], '{"answer":"Refunded.","refundCents":5000}');
    const { keel, journal } = await keelWith('ok', agent({ script: refundA1 }));
    const before = executed.length;
    const outcome = await keel.run('refunds', { message: 'Refund A-1' }, { principal: 'ada', tenant: 'acme' });
    assert.equal(outcome.status, 'ok', outcome.reason);
    assert.deepEqual((outcome.output as { output: JsonValue }).output, { answer: 'Refunded.', refundCents: 5_000 });
    assert.deepEqual(executed.slice(before).map((entry) => entry.tool), ['lookup_order', 'issue_refund']);
    const events = await journal(outcome.runId);
    assert.equal(ofType(events, 'context-assembly').length, 1);
    assert.equal(events.filter((event) => event.type === 'step-end' && event.data.kind === 'model-call').length, 3);
    const decisions = ofType(events, 'policy-decision');
    assert.deepEqual(decisions.filter((event) => event.data.engine === 'cedar').map((event) => [event.data.tool, event.data.effect, event.data.policyIds]), [
      ['lookup_order', 'allow', ['tools']],
      ['issue_refund', 'allow', ['tools']],
    ]);
    assert.ok(decisions.every((event) => event.data.labels !== undefined), 'every tool decision carries the arguments’ labels');
    assert.equal(ofType(events, 'output-validation')[0]?.data.ok, true);
  });

  test('a read of another tenant’s order is refused before it runs and the model is told', async () => {
    const script = planned([{ toolName: 'lookup_order', input: { orderId: 'B-1' } }], '{"answer":"I cannot see that order.","refundCents":0}');
    const { keel, journal } = await keelWith('tenant', agent({ script }));
    const before = executed.length;
    const outcome = await keel.run('refunds', { message: 'Refund B-1' }, { principal: 'ada', tenant: 'acme' });
    assert.equal(outcome.status, 'ok');
    assert.equal(executed.length, before, 'nothing executed');
    const denial = ofType(await journal(outcome.runId), 'policy-decision').find((event) => event.data.effect === 'deny');
    assert.deepEqual(denial?.data.policyIds, ['access.tenant-isolation']);
  });

  test('a refund above the limit parks the run waiting; approval in another engine completes it, once', async () => {
    const script = planned([{ toolName: 'issue_refund', input: { orderId: 'A-1', amountCents: 20_000 } }], '{"answer":"Refunded after approval.","refundCents":20000}');
    const definition = agent({ script });
    const { keel, store } = await keelWith('approval', definition);
    const before = executed.length;
    const waiting = await keel.run('refunds', { message: 'Refund A-1 in full and more' }, { principal: 'ada', tenant: 'acme' });
    assert.equal(waiting.status, 'waiting');
    assert.equal(executed.length, before, 'the refund waits for a person');
    const other = await createKeel({ store, agents: [definition] });
    const done = await other.decide(waiting.runId, { decision: 'approve', decider: 'lead' });
    assert.ok('status' in done && done.status === 'ok', JSON.stringify(done));
    assert.deepEqual(executed.slice(before).map((entry) => entry.tool), ['issue_refund']);
  });

  test('task-scoped grants: the run may read the order its input names, and no other, even of its own tenant', async () => {
    const granted = CedarPolicyEngine.fromSources({
      schema: {
        path: 'keel.cedarschema',
        text: `entity Grant; entity User { tenant: String }; entity Tool in [Grant] { sideEffect: String, labels: Set<String> }; entity Order in [Grant] { tenant: String };
          action "call-tool" appliesTo { principal: [User], resource: [Tool, Order], context: { task: String, tenant: String } };`,
      },
      policies: [{ path: 'granted.cedar', text: '@id("granted-orders-only") permit (principal, action == Action::"call-tool", resource) when { resource in Grant::"call-tool" };' }],
    });
    orders['A-2'] = { id: 'A-2', tenant: 'acme', totalCents: 1_000 };
    const script = planned([{ toolName: 'lookup_order', input: { orderId: 'A-1' } }, { toolName: 'lookup_order', input: { orderId: 'A-2' } }], '{"answer":"Looked up.","refundCents":0}');
    const { keel, journal } = await keelWith('grants', agent({ script, tools: [lookupOrder], policies: granted, grants: (input) => [{ action: 'call-tool', resource: { type: 'Order', id: typeof input.variables?.orderId === 'string' ? input.variables.orderId : '' } }] }));
    const before = executed.length;
    const outcome = await keel.run('refunds', { message: 'Look up my order', variables: { orderId: 'A-1' } }, { principal: 'ada', tenant: 'acme' });
    assert.equal(outcome.status, 'ok', outcome.reason);
    assert.deepEqual(executed.slice(before).map((entry) => entry.args), [{ orderId: 'A-1' }], 'only the granted order was read');
    const cedar = ofType(await journal(outcome.runId), 'policy-decision').filter((event) => event.data.engine === 'cedar');
    assert.deepEqual(cedar.map((event) => [event.data.resource, event.data.effect]), [
      ['Order::A-1', 'allow'],
      ['Order::A-2', 'not-applicable'],
    ]);
  });

  test('a run continues only under the configuration it started with', async () => {
    const script = planned([{ toolName: 'issue_refund', input: { orderId: 'A-1', amountCents: 20_000 } }], '{"answer":"Refunded.","refundCents":20000}');
    const { keel, store } = await keelWith('config-changed', agent({ script }));
    const waiting = await keel.run('refunds', { message: 'Refund A-1' }, { principal: 'ada', tenant: 'acme' });
    const changed = await createKeel({ store, agents: [agent({ script, instructions: 'Refund everything for {{tenant}}.' })] });
    const refused = await changed.decide(waiting.runId, { decision: 'approve', decider: 'lead' });
    assert.ok('abandoned' in refused && refused.abandoned === 'config-changed', JSON.stringify(refused));
    assert.match(refused.detail, /started refunds@1 under configuration [0-9a-f]{12}, but this process serves it with [0-9a-f]{12}/);
    assert.equal((await store.getRun(waiting.runId))?.status, 'queued', 'the decision is recorded; the run waits for a process with its configuration');
    const resumed = await keel.resume(waiting.runId);
    assert.ok('status' in resumed && resumed.status === 'ok', JSON.stringify(resumed));
  });

  test('a denied approval goes back to the model as a refusal', async () => {
    const script = planned([{ toolName: 'issue_refund', input: { orderId: 'A-1', amountCents: 20_000 } }], '{"answer":"The refund was declined.","refundCents":0}');
    const { keel } = await keelWith('denied-approval', agent({ script }));
    const waiting = await keel.run('refunds', { message: 'Refund A-1' }, { principal: 'ada', tenant: 'acme' });
    const done = await keel.decide(waiting.runId, { decision: 'deny', decider: 'lead', reason: 'too much' });
    assert.ok('status' in done && done.status === 'ok');
    assert.deepEqual((done.output as { toolCalls: JsonValue }).toolCalls, [{ tool: 'issue_refund', status: 'denied' }]);
  });

  test('a Cedar forbid escalates the run when the agent says so, and nothing runs', async () => {
    const script = planned([{ toolName: 'issue_refund', input: { orderId: 'A-1', amountCents: 100 } }], '{"answer":"x","refundCents":0}');
    const { keel } = await keelWith('forbid', agent({ script, onDenied: 'escalate' }));
    const before = executed.length;
    const outcome = await keel.run('refunds', { message: 'Refund A-1' }, { principal: 'mallory', tenant: 'acme' });
    assert.equal(outcome.status, 'escalated');
    assert.match(outcome.reason ?? '', /no-refunds-for-mallory/);
    assert.equal(executed.length, before);
  });

  test('the same call proposed again and again trips the loop guard', async () => {
    const script = (): SimulatedTurn => ({ type: 'tool-calls', calls: [{ toolName: 'lookup_order', input: { orderId: 'A-1' } }] });
    const { keel, journal } = await keelWith('loop', agent({ script }));
    const outcome = await keel.run('refunds', { message: 'Refund A-1' }, { principal: 'ada', tenant: 'acme' });
    assert.equal(outcome.status, 'escalated');
    assert.equal(ofType(await journal(outcome.runId), 'loop-guard')[0]?.data.guard, 'identical-calls');
  });

  test('a broken answer is repaired, and a still-broken one escalates with the failure decision journaled', async () => {
    const script = planned([], '{"answer":"","refundCents":-1}');
    const { keel, journal } = await keelWith('malformed', agent({ script, limits: { maxRepairs: 1 } }));
    const outcome = await keel.run('refunds', { message: 'Refund A-1' }, { principal: 'ada', tenant: 'acme' });
    assert.equal(outcome.status, 'escalated');
    const events = await journal(outcome.runId);
    assert.deepEqual(ofType(events, 'output-validation').map((event) => event.data.ok), [false, false]);
    assert.deepEqual(ofType(events, 'failure-decision').map((event) => [event.data.point, event.data.kind, event.data.action]), [['answer', 'malformed', 'escalate']]);
  });

  test('session memory carries the conversation into the next run', async () => {
    const script = ({ request }: ScriptInput): SimulatedTurn => {
      const seen = request.messages.filter((message) => message.role === 'user').length;
      return { type: 'text', text: JSON.stringify({ answer: `I have seen ${seen} user messages.`, refundCents: 0 }) };
    };
    const { keel } = await keelWith('memory', agent({ script, memory: { session: true } }));
    const first = await keel.run('refunds', { message: 'Hello', session: 's-1' }, { principal: 'ada', tenant: 'acme' });
    const second = await keel.run('refunds', { message: 'Again', session: 's-1' }, { principal: 'ada', tenant: 'acme' });
    assert.match(JSON.stringify(first.output), /seen 1 user/);
    assert.match(JSON.stringify(second.output), /seen 2 user/);
  });

  test('long-term memory: a fact remembered through the governed remember tool is in the next session’s context, labelled untrusted', async () => {
    const script = ({ request }: ScriptInput): SimulatedTurn => {
      const prompt = JSON.stringify(request.messages);
      if (prompt.includes('prefers store credit')) return { type: 'text', text: JSON.stringify({ answer: 'You prefer store credit.', refundCents: 0 }) };
      if (request.messages.some((message) => message.role === 'tool')) return { type: 'text', text: JSON.stringify({ answer: 'Noted.', refundCents: 0 }) };
      return { type: 'tool-calls', calls: [{ toolName: 'remember', input: { fact: 'Ada prefers store credit' } }] };
    };
    const { keel, store } = await keelWith('long-term', agent({ script, memory: { longTerm: true } }));
    const first = await keel.run('refunds', { message: 'Please remember I like store credit', session: 'a' }, { principal: 'ada', tenant: 'acme' });
    assert.deepEqual((first.output as { toolCalls: JsonValue }).toolCalls, [{ tool: 'remember', status: 'ok' }]);
    const second = await keel.run('refunds', { message: 'What do I prefer?', session: 'b' }, { principal: 'ada', tenant: 'acme' });
    assert.match(JSON.stringify(second.output), /You prefer store credit/);
    const remembered = await store.readMemory({ kind: 'long-term', tenant: 'acme', principal: 'ada' });
    assert.deepEqual(remembered.map((entry) => [entry.text, entry.labels.origin, entry.source.runId]), [['Ada prefers store credit', 'untrusted', first.runId]]);
    const other = await store.readMemory({ kind: 'long-term', tenant: 'acme', principal: 'bob' });
    assert.equal(other.length, 0, 'memory is per principal');
  });

  test('hand-off memory: one run’s answer is the next run’s context under the same hand-off id', async () => {
    const script = ({ request }: ScriptInput): SimulatedTurn => {
      const prompt = JSON.stringify(request.messages);
      return { type: 'text', text: JSON.stringify({ answer: prompt.includes('Triage done: refund A-1') ? 'Picked up the triage.' : 'Triage done: refund A-1', refundCents: 0 }) };
    };
    const { keel } = await keelWith('handoff', agent({ script, memory: { handoff: true } }));
    await keel.run('refunds', { message: 'Triage this', handoff: 'case-7' }, { principal: 'ada', tenant: 'acme' });
    const next = await keel.run('refunds', { message: 'Continue', handoff: 'case-7' }, { principal: 'ada', tenant: 'acme' });
    assert.match(JSON.stringify(next.output), /Picked up the triage/);
    const elsewhere = await keel.run('refunds', { message: 'Continue', handoff: 'case-7' }, { principal: 'ada', tenant: 'globex' });
    assert.doesNotMatch(JSON.stringify(elsewhere.output), /Picked up/, 'hand-offs are per tenant');
  });

  test('a run budget too small for one call stops the run before any model is paid', async () => {
    const script = planned([], '{"answer":"x","refundCents":0}');
    const { keel } = await keelWith('budget', agent({ script, limits: { budgetMicros: 1 } }));
    const outcome = await keel.run('refunds', { message: 'Refund A-1' }, { principal: 'ada', tenant: 'acme' });
    assert.notEqual(outcome.status, 'ok');
    assert.match(`${outcome.reason ?? ''} ${outcome.error?.code ?? ''}`, /budget/);
  });

  test('a streaming agent streams every turn and journals it as a whole answer', async () => {
    const refundA1 = planned([{ toolName: 'lookup_order', input: { orderId: 'A-1' } }], '{"answer":"Looked it up.","refundCents":0}');
    const parts: { turn: string; type: string }[] = [];
    const { keel, journal } = await keelWith('stream', agent({ script: refundA1, onStream: ({ turn, part }) => parts.push({ turn, type: part.type }) }));
    const outcome = await keel.run('refunds', { message: 'Look up A-1' }, { principal: 'ada', tenant: 'acme' });
    assert.equal(outcome.status, 'ok', outcome.reason);
    assert.deepEqual([...new Set(parts.map((part) => part.turn))], ['turn-1', 'turn-2']);
    assert.ok(parts.some((part) => part.turn === 'turn-1' && part.type === 'tool-call'));
    assert.ok(parts.some((part) => part.turn === 'turn-2' && part.type === 'text-delta'));
    assert.equal(parts.filter((part) => part.type === 'finish').length, 2);
    const ends = (await journal(outcome.runId)).filter((event) => event.type === 'step-end' && event.data.kind === 'model-call');
    assert.equal(ends.length, 2);
    assert.ok(ends.every((event) => event.type === 'step-end' && event.data.cost !== undefined && event.data.usage !== undefined), 'streamed turns are costed like generated ones');
  });

  test('a stream cut short is billed, and the failed turn carries what it cost', async () => {
    const script = planned([], '{"answer":"This answer is long enough to be cut part-way through.","refundCents":0}');
    const definition = agent({ script, onStream: () => undefined, simulator: { script, faults: [{ on: { calls: [1] }, fault: { type: 'truncated-stream', afterParts: 2 } }] } });
    const { keel, journal, store } = await keelWith('stream-cut', definition);
    const outcome = await keel.run('refunds', { message: 'Hello' }, { principal: 'ada', tenant: 'acme' });
    assert.equal(outcome.status, 'failed');
    const failed = (await journal(outcome.runId)).find((event) => event.type === 'step-end' && event.data.kind === 'model-call' && !event.data.outcome.ok);
    assert.ok(failed?.type === 'step-end' && failed.data.cost !== undefined && failed.data.cost.micros > 0, 'the cut stream is costed');
    assert.equal((await store.getRun(outcome.runId))?.costMicros, failed.data.cost.micros);
  });

  test('bad input and bad declarations fail with one clear error', async () => {
    const { keel } = await keelWith('input', agent({ script: planned([], '{}') }));
    const outcome = await keel.run('refunds', { text: 'no message' }, { principal: 'ada', tenant: 'acme' });
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.error?.code, 'agent-input-invalid');
    assert.throws(() => agent({ script: planned([], '{}'), tools: [lookupOrder, lookupOrder] }), /lookup_order is declared twice/);
    assert.throws(() => agent({ script: planned([], '{}'), limits: { maxTurns: 0 } }), /limits.maxTurns must be an integer of at least 1/);
    const store = SqliteStore.open({ path: ':memory:', durability: 'normal' });
    after(() => store.close());
    await assert.rejects(createKeel({ store, agents: [agent({ script: planned([], '{}'), model: 'nowhere:model' })] }), /agent refunds: model 'nowhere:model': unknown provider 'nowhere'/);
  });
});
