import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ContractViolationError, withFailureContract } from '../contracts/index.ts';
import { replayRun, TaskCatalog } from '../engine/index.ts';
import type { ConfidenceMarker, JournalEvent } from '../journal/index.ts';
import { parseEvent } from '../journal/index.ts';
import { SqliteStore } from '../store/index.ts';
import type { DemoRun } from './index.ts';
import { demoTasks, PaymentsLedger, runDemo } from './index.ts';
import { minimumAnswerConfidence, supportAnswerContract, supportAnswerFailures } from './support-answer.ts';
import { readPolicy } from './support-tools.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-demo-v3-'));
after(() => rmSync(folder, { recursive: true, force: true }));

async function demo(name: string, policiesFolder?: string) {
  const store = SqliteStore.open({ path: join(folder, `${name}.db`), durability: 'normal' });
  const ledger = new PaymentsLedger(join(folder, `${name}-payments.db`));
  const runs = await runDemo({ store, ledger, model: 'sim:default', seed: 7, ...(policiesFolder === undefined ? {} : { task: { policiesFolder } }) });
  const journal = async (run: DemoRun | undefined): Promise<JournalEvent[]> => (await store.readJournal(run?.id ?? '')).map(parseEvent);
  const replay = (run: DemoRun | undefined) => replayRun(store, run?.id ?? '', new TaskCatalog(demoTasks(ledger)));
  after(async () => {
    ledger.close();
    await store.close();
  });
  return { runs, journal, replay };
}

const ofType = <Type extends JournalEvent['type']>(events: JournalEvent[], type: Type) => events.filter((event): event is Extract<JournalEvent, { type: Type }> => event.type === type);

describe('support-refund version 3', async () => {
  const { runs, journal, replay } = await demo('v3');

  test('new runs start on version 3 and keep the five endings', async () => {
    assert.deepEqual(runs.map((run) => run.status), ['ok', 'ok', 'waiting', 'degraded', 'failed']);
    for (const run of runs) assert.equal(ofType(await journal(run), 'run-start')[0]?.data.taskVersion, '3');
    assert.equal(runs[0]?.refundCents, 4_200);
    assert.equal(runs[1]?.refundCents, null);
    assert.match(runs[1]?.answer ?? '', /delivered 64 days ago, and our policy allows refunds within 30 days/);
  });

  test('each run journals its retrieval and one context manifest before the first model call', async () => {
    for (const run of runs) {
      const events = await journal(run);
      const assemblies = ofType(events, 'context-assembly');
      assert.equal(assemblies.length, 1, run.id);
      const firstModelCall = events.findIndex((event) => event.type === 'step-start' && event.data.kind === 'model-call');
      assert.ok(events.indexOf(assemblies[0] as JournalEvent) < firstModelCall);
      const manifest = assemblies[0]?.data.manifest as { manifestHash: string; sections: { name: string }[]; labels: { origins: string[] } };
      assert.equal(manifest.manifestHash, assemblies[0]?.data.manifestHash);
      assert.deepEqual(manifest.sections.map((section) => section.name), ['instructions', 'order', 'policy', 'request']);
      assert.deepEqual(manifest.labels.origins, ['system', 'user']);
    }
  });

  test('the category policy is retrieved when there is one; for electronics the general one, with a low-coverage signal', async () => {
    const policiesOf = async (run: DemoRun | undefined) => {
      const manifest = ofType(await journal(run), 'context-assembly')[0]?.data.manifest as { items: { section: string; id: string }[] };
      return manifest.items.filter((item) => item.section === 'policy').map((item) => item.id);
    };
    assert.deepEqual(await policiesOf(runs[0]), ['refunds-apparel.md#1', 'refunds-general.md#1']);
    assert.deepEqual(await policiesOf(runs[1]), ['refunds-home.md#1', 'refunds-general.md#1']);
    assert.equal((await policiesOf(runs[3]))[0], 'refunds-general.md#1');
    const signals = await Promise.all(runs.map(async (run) => ofType(await journal(run), 'retrieval-signal').map((event) => event.data.kind)));
    assert.deepEqual(signals, [[], [], [], ['low-coverage'], []]);
  });

  test('the final answer is validated under the output contract; the unsure one ends degraded with its marker', async () => {
    const validations = await Promise.all(runs.map(async (run) => ofType(await journal(run), 'output-validation').map((event) => event.data)));
    // The waiting run has not answered yet, and the failed one never did.
    assert.deepEqual(validations.map((list) => list.length), [1, 1, 0, 1, 0]);
    assert.ok(validations.flat().every((validation) => validation.contract === 'support-answer' && validation.ok && validation.violations.length === 0));
    assert.deepEqual(validations[3]?.[0]?.lowConfidence, { field: 'confidence', value: 0.55, minimum: minimumAnswerConfidence });
    const degraded = runs[3];
    assert.equal(degraded?.refundCents, 19_900, 'the refund went out; the answer is marked, not withheld');
    assert.deepEqual(
      degraded?.confidence.map((marker) => [marker.subject, marker.confidence]),
      [['support-answer', 0.55]],
    );
    assert.match(degraded?.confidence[0]?.reason ?? '', /unsure of its answer \(low-confidence: confidence 0\.55 is below the minimum 0\.7\)/);
    const end = ofType(await journal(degraded), 'run-end')[0]?.data;
    assert.equal((end?.output as { policy: string }).policy, 'refunds-general.md');
  });

  test('every run replays byte for byte', async () => {
    for (const run of runs) {
      const report = await replay(run);
      assert.equal(report.matched, true, `${run.status}: ${report.stoppedEarly ?? JSON.stringify(report.firstDifference)}`);
      assert.ok(report.modelCalls >= 1);
    }
  });
});

describe('support-refund version 3 with its retriever down', async () => {
  const { runs, journal, replay } = await demo('retriever-down', join(folder, 'no-such-folder'));

  test('falls back to the general policy under the retrieval failure contract, and says so', async () => {
    const run = runs[0];
    assert.equal(run?.status, 'degraded');
    const subjects = (run?.confidence ?? []).map((marker: ConfidenceMarker) => marker.subject);
    assert.deepEqual(subjects, ['refund-policy', 'support-answer']);
    assert.match(run?.confidence[0]?.reason ?? '', /the policy retriever failed .*; the answer rests on the general policy \(refunds-general\.md\)/);
    const events = await journal(run);
    assert.deepEqual(ofType(events, 'retrieval-signal').map((event) => event.data.kind), ['retriever-down']);
    const fallback = ofType(events, 'step-start').find((event) => event.data.name === 'read_policy');
    assert.deepEqual(fallback?.data.input, { category: 'general' });
    const manifest = ofType(events, 'context-assembly')[0]?.data.manifest as { items: { section: string; source: string; id: string; version: string }[] };
    const policy = manifest.items.filter((item) => item.section === 'policy');
    assert.deepEqual(policy.map((item) => [item.source, item.id, item.version]), [['read_policy', 'refunds-general.md', readPolicy('general').version]]);
    const report = await replay(run);
    assert.equal(report.matched, true, report.stoppedEarly);
  });
});

describe('the answer contract and its failure contract', () => {
  const contract = supportAnswerContract(() => ({ orderTotalCents: 4_200, refundCents: 4_200 }));
  const answer = { answer: 'Refunded.', refundCents: 4_200, policy: 'refunds-apparel.md', confidence: 0.9 };

  test('holds the answer to the run: a refund over the total, or one never issued, is a violation', () => {
    assert.equal(contract.validate(JSON.stringify(answer)).ok, true);
    const over = contract.validate({ ...answer, refundCents: 5_000 });
    assert.ok(!over.ok);
    assert.deepEqual(over.violations.map((violation) => violation.rule), ['refund-within-order-total', 'refund-as-issued']);
    const none = supportAnswerContract(() => ({ orderTotalCents: 4_200, refundCents: null })).validate(answer);
    assert.ok(!none.ok);
    assert.match(none.violations[0]?.message ?? '', /no refund was issued; use null/);
    const unsure = contract.validate({ ...answer, confidence: 0.4 });
    assert.ok(unsure.ok);
    assert.deepEqual(unsure.lowConfidence, { field: 'confidence', value: 0.4, minimum: 0.7 });
  });

  test('prose falls back to the prose; JSON that breaks the contract goes to a person', async () => {
    const escalations: string[] = [];
    const runner = {
      markConfidence: () => undefined,
      escalate: (reason: string): never => {
        escalations.push(reason);
        throw new Error('escalated');
      },
    };
    const broken = (text: string) => async () => {
      const validation = contract.validate(text);
      assert.ok(!validation.ok);
      throw new ContractViolationError(contract, [{ step: 'turn-2', violations: validation.violations }]);
    };
    const prose = 'Your refund is on its way.';
    assert.equal(await withFailureContract(runner, supportAnswerFailures(runner, prose, (text) => `prose: ${text}`), broken(prose)), `prose: ${prose}`);
    const cutOff = '{"answer": "Your refund';
    await assert.rejects(withFailureContract(runner, supportAnswerFailures(runner, cutOff, (text) => text), broken(cutOff)), /escalated/);
    const wrong = JSON.stringify({ ...answer, refundCents: 9_999 });
    await assert.rejects(withFailureContract(runner, supportAnswerFailures(runner, wrong, (text) => text), broken(wrong)), /escalated/);
    assert.equal(escalations.length, 2);
    assert.match(escalations[1] ?? '', /final answer broke its output contract: .*refund-within-order-total/);
  });
});
