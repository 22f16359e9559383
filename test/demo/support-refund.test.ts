/**
 * The support-refund example (examples/support-refund), run the way `keel demo` runs it: the five
 * customer messages and their endings, the approval wait, the degraded answer, the failed refund,
 * the Cedar policies deciding who may touch which order, and byte-for-byte replay.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { DemoRun } from '../../examples/support-refund/index.ts';
import { autoApprovalLimitCents, minimumAnswerConfidence, PaymentsLedger, runDemo, supportRefundAgent, supportRefundTask } from '../../examples/support-refund/index.ts';
import { createKeel } from '../../src/agent/index.ts';
import type { AgentOutput } from '../../src/agent/index.ts';
import { replayRun } from '../../src/engine/index.ts';
import type { JournalEvent } from '../../src/journal/index.ts';
import { parseEvent } from '../../src/journal/index.ts';
import { SqliteStore } from '../../src/store/index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-support-refund-'));
after(() => rmSync(folder, { recursive: true, force: true }));

async function deployment(name: string) {
  const store = SqliteStore.open({ path: join(folder, `${name}.db`), durability: 'normal' });
  const payments = new PaymentsLedger(join(folder, `${name}-payments.db`));
  const keel = await createKeel({ store, agents: [supportRefundAgent({ payments })] });
  after(async () => {
    await keel.close();
    payments.close();
    await store.close();
  });
  const journal = async (runId: string | undefined): Promise<JournalEvent[]> => (await store.readJournal(runId ?? '')).map(parseEvent);
  return { keel, store, payments, journal };
}

const ofType = <Type extends JournalEvent['type']>(events: JournalEvent[], type: Type) => events.filter((event): event is Extract<JournalEvent, { type: Type }> => event.type === type);

describe('the five demo runs', async () => {
  const { keel, payments, journal } = await deployment('demo');
  const runs = await runDemo(keel);
  const [refunded, outsideWindow, overLimit, unsure, paymentsDown] = runs as [DemoRun, DemoRun, DemoRun, DemoRun, DemoRun];

  test('end ok, ok, waiting, degraded, failed, on version 4 of support-refund', async () => {
    assert.deepEqual(runs.map((run) => run.status), ['ok', 'ok', 'waiting', 'degraded', 'failed']);
    for (const run of runs) {
      assert.equal(run.task, supportRefundTask);
      assert.equal(ofType(await journal(run.id), 'run-start')[0]?.data.taskVersion, '4');
      assert.ok(run.steps > 0 && run.tokens > 0 && run.costMicros > 0, JSON.stringify(run));
    }
  });

  test('a refund inside the policy is paid once, and the answer names it; one outside the window is refused', () => {
    assert.equal(refunded.refundCents, 4_200);
    assert.match(refunded.answer ?? '', /^Done: refund re_00001 of \$42\.00 for order A-1001/);
    assert.equal(outsideWindow.refundId, null);
    assert.match(outsideWindow.answer ?? '', /delivered 64 days ago, and our policy allows refunds within 30 days/);
  });

  test('the tool calls are decided by Cedar before they run: the customer reads and refunds only their own order', async () => {
    const decisions = ofType(await journal(refunded.id), 'policy-decision').filter((event) => event.data.engine === 'cedar');
    assert.deepEqual(
      decisions.map((event) => [event.data.tool, event.data.action, event.data.resource, event.data.effect, event.data.policyIds]),
      [
        ['lookup_order', 'read-order', 'Order::A-1001', 'allow', ['customer-reads-own-order']],
        ['read_policy', 'call-tool', 'Tool::read_policy', 'allow', ['read-only-tools']],
        ['issue_refund', 'issue-refund', 'Order::A-1001', 'allow', ['customer-refunds-own-order']],
      ],
    );
  });

  test('a refund above the approval limit parks the run, durably, until a support lead approves it', async () => {
    assert.match(overLimit.reason ?? '', new RegExp(`refund of \\$1250\\.00 for order A-1003 exceeds the \\$${autoApprovalLimitCents / 100}\\.00 auto-approval limit; a support lead must approve it`));
    assert.deepEqual(payments.refunds().map((refund) => refund.orderId), ['A-1001', 'A-1004'], 'nothing paid for A-1003 before the decision');
    const requested = ofType(await journal(overLimit.id), 'approval-request');
    assert.equal(requested.length, 1);

    const approved = await keel.decide(overLimit.id, { decision: 'approve', decider: 'user:lead.kim' });
    assert.ok('status' in approved);
    assert.equal(approved.status, 'ok');
    const answer = (approved.output as AgentOutput).output as { refundId: string; refundCents: number };
    assert.equal(answer.refundCents, 125_000);
    assert.deepEqual(payments.refunds().at(-1), { refundId: answer.refundId, orderId: 'A-1003', amountCents: 125_000 });
    await assert.rejects(keel.decide(overLimit.id, { decision: 'approve', decider: 'user:lead.kim' }), { code: 'run-not-waiting' });
    assert.equal(payments.refunds().length, 3, 'approved once, paid once');
  });

  test('an answer under the confidence minimum goes out, and the run ends degraded with its marker', async () => {
    assert.equal(unsure.refundCents, 19_900, 'the refund went out; the answer is marked, not withheld');
    assert.deepEqual(
      unsure.confidence.map((marker) => [marker.subject, marker.confidence]),
      [['support-answer', 0.55]],
    );
    assert.match(unsure.confidence[0]?.reason ?? '', /unsure of its answer \(low-confidence: confidence 0\.55 is below the minimum 0\.7\)/);
    const events = await journal(unsure.id);
    assert.deepEqual(ofType(events, 'output-validation')[0]?.data.lowConfidence, { field: 'confidence', value: 0.55, minimum: minimumAnswerConfidence });
    assert.deepEqual(
      ofType(events, 'failure-decision').map((event) => [event.data.point, event.data.kind, event.data.action]),
      [['support-answer', 'low-confidence', 'degrade']],
    );
    // No policy names electronics: read_policy returned the general one, which is why the agent is unsure.
    const read = ofType(events, 'step-end').find((event) => event.data.name === 'read_policy');
    const policy = read?.data.outcome.ok === true ? (read.data.outcome.value as { document: string; specific: boolean }) : undefined;
    assert.deepEqual([policy?.document, policy?.specific], ['refunds-general.md', false]);
  });

  test('the payments API being down fails the run, naming it, and pays nothing', async () => {
    assert.equal(paymentsDown.reason, 'issue_refund failed: payments API unavailable for order A-1005 (HTTP 503)');
    assert.ok(!payments.refunds().some((refund) => refund.orderId === 'A-1005'));
    const end = ofType(await journal(paymentsDown.id), 'run-end')[0];
    assert.equal(end?.data.error?.code, 'tool-error');
  });

  test('every run replays byte for byte', async () => {
    for (const run of runs) {
      const report = await replayRun(keel.store, run.id, keel.engine.tasks);
      assert.equal(report.matched, true, `${run.status}: ${report.stoppedEarly ?? JSON.stringify(report.firstDifference)}`);
      assert.ok(report.modelCalls >= 1);
    }
  });
});

describe('the governance around the tools', async () => {
  const { keel, payments, journal } = await deployment('governance');

  test("a customer cannot reach another customer's order: Cedar refuses the lookup and the agent says so", async () => {
    const outcome = await keel.run(supportRefundTask, { message: 'Refund order A-1001 to me please.' }, { principal: 'user:mallory', tenant: 'acme-shop' });
    assert.equal(outcome.status, 'ok');
    const answer = (outcome.output as AgentOutput).output as { answer: string; refundId: string | null };
    assert.equal(answer.refundId, null);
    assert.match(answer.answer, /could not look up order A-1001/);
    const denied = ofType(await journal(outcome.runId), 'policy-decision').find((event) => event.data.tool === 'lookup_order');
    assert.equal(denied?.data.effect, 'not-applicable');
    assert.equal(payments.refunds().length, 0);
  });

  test("another tenant's order is refused before Cedar is asked", async () => {
    const outcome = await keel.run(supportRefundTask, { message: 'Refund order A-1001 please.' }, { principal: 'user:maya', tenant: 'globex' });
    const denied = ofType(await journal(outcome.runId), 'policy-decision').find((event) => event.data.tool === 'lookup_order');
    assert.deepEqual(denied?.data.policyIds, ['access.tenant-isolation']);
    assert.equal(payments.refunds().length, 0);
  });

  test('a denied refund is told to the agent, which tells the customer; nothing is paid', async () => {
    const waiting = await keel.run(supportRefundTask, { message: 'Please refund order A-1003.' }, { principal: 'user:lena', tenant: 'acme-shop' });
    assert.equal(waiting.status, 'waiting');
    const denied = await keel.decide(waiting.runId, { decision: 'deny', decider: 'user:lead.kim', reason: 'collect the sofa first' });
    assert.ok('status' in denied);
    assert.equal(denied.status, 'ok');
    assert.match(((denied.output as AgentOutput).output as { answer: string }).answer, /couldn't issue the refund for order A-1003 .*collect the sofa first/);
    assert.equal(payments.refunds().length, 0);
  });
});

test('the payments ledger deduplicates on the idempotency key', () => {
  const payments = new PaymentsLedger(join(folder, 'ledger.db'));
  try {
    const first = payments.refund('A-1001', 4_200, 'run_1:0:7');
    assert.deepEqual(payments.refund('A-1001', 4_200, 'run_1:0:7'), first);
    assert.notEqual(payments.refund('A-1001', 4_200, 'run_2:0:7').refundId, first.refundId);
    assert.equal(payments.refunds().length, 2);
  } finally {
    payments.close();
  }
});
