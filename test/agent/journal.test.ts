/**
 * Every decision of the agent loop is in the journal, as `keel show --json` (the real command, in
 * another process) prints it: the context manifest, each model call, each tool decision with its
 * policy ids and labels, the failure-contract decision and the output validation.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { createKeel } from 'keel';
import { refundAgent } from './fixtures/refund-agents.ts';

const run = promisify(execFile);
const folder = mkdtempSync(join(tmpdir(), 'keel-agent-journal-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const keelBin = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');

interface ShownEvent {
  type: string;
  data: Record<string, unknown>;
}

test('keel show --json holds every decision the loop made', async () => {
  const database = join(folder, 'keel.db');
  const keel = await createKeel({ database, agents: [refundAgent] });
  const outcome = await keel.run('refund-agent', { message: 'Refund A-1, but I am unsure' }, { principal: 'ada', tenant: 'acme' });
  await keel.close();
  assert.equal(outcome.status, 'degraded', outcome.reason);

  const { stdout } = await run(process.execPath, [keelBin, 'show', outcome.runId, '--db', database, '--json']);
  const shown = JSON.parse(stdout) as { chain: { ok: boolean }; events: ShownEvent[] };
  assert.equal(shown.chain.ok, true);
  const ofType = (type: string) => shown.events.filter((event) => event.type === type);

  const [assembly] = ofType('context-assembly');
  const manifest = assembly?.data.manifest as { items: { source: string }[]; manifestHash: string } | undefined;
  assert.deepEqual(manifest?.items.map((item) => item.source), ['instructions', 'user']);

  const modelCalls = ofType('step-end').filter((event) => event.data.kind === 'model-call');
  assert.equal(modelCalls.length, 3);
  assert.ok(modelCalls.every((event) => event.data.cost !== undefined));

  const cedar = ofType('policy-decision').filter((event) => event.data.engine === 'cedar');
  assert.deepEqual(cedar.map((event) => [event.data.tool, event.data.effect, event.data.policyIds]), [
    ['lookup_order', 'allow', ['support-tools']],
    ['issue_refund', 'allow', ['support-tools']],
  ]);
  const flow = ofType('policy-decision').filter((event) => event.data.engine === 'keel-flow');
  const refundLabels = flow.find((event) => event.data.tool === 'issue_refund')?.data.labels as Record<string, { origins: string[] }> | undefined;
  // The order id came from the user's message; the amount is the model's own (it carries the context's labels).
  assert.deepEqual(refundLabels?.orderId?.origins, ['user']);
  assert.ok(refundLabels?.amountCents !== undefined);

  const decisions = ofType('step-end').filter((event) => String(event.data.name).startsWith('tool-decision:'));
  assert.equal(decisions.length, 2);

  assert.deepEqual(
    ofType('failure-decision').map((event) => [event.data.point, event.data.kind, event.data.action]),
    [['answer', 'low-confidence', 'degrade']],
  );
  const [validation] = ofType('output-validation');
  assert.equal(validation?.data.ok, true);
  assert.deepEqual(validation?.data.lowConfidence, { field: 'confidence', value: 0.4, minimum: 0.7 });
});
