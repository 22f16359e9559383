import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const folder = mkdtempSync(join(tmpdir(), 'keel-oversight-'));
const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
after(() => rmSync(folder, { recursive: true, force: true }));

/** Every call is a new process: decisions arrive "after a restart" by construction. */
function keel(database: string, ...argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const child = spawnSync(process.execPath, [launcher, ...argv, '--db', database], { encoding: 'utf8', env: { ...process.env, USER: 'lead.kim' } });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

interface Escalation {
  id: string;
  requestId: string;
  reason: string;
  details: { tool: string; arguments: { orderId: string; amountCents: number } };
}

test('a run waits durably for approval; approved from another process, it resumes and issues the refund once', () => {
  const database = join(folder, 'approve.db');
  const demo = JSON.parse(keel(database, 'demo', '--json').stdout) as { runs: { id: string; status: string }[] };
  const waiting = demo.runs.find((run) => run.status === 'waiting');
  assert.ok(waiting !== undefined);
  const { escalations } = JSON.parse(keel(database, 'escalations', '--json').stdout) as { escalations: Escalation[] };
  assert.deepEqual(escalations.map((item) => [item.id, item.details.tool, item.details.arguments.orderId, item.details.arguments.amountCents]), [[waiting.id, 'issue_refund', 'A-1003', 125_000]]);
  assert.match(escalations[0]?.requestId ?? '', new RegExp(`^${waiting.id}:\\d+$`));
  const listed = JSON.parse(keel(database, 'runs', '--json', '--status', 'waiting').stdout) as { runs: { id: string }[] };
  assert.deepEqual(listed.runs.map((run) => run.id), [waiting.id]);

  const approved = keel(database, 'approve', waiting.id);
  assert.equal(approved.code, 0, approved.stderr);
  assert.match(approved.stdout, /user:lead\.kim approved .* the run is now ok/);
  const shown = JSON.parse(keel(database, 'show', waiting.id, '--json').stdout) as { run: { status: string }; events: { type: string; data: Record<string, unknown> }[] };
  assert.equal(shown.run.status, 'ok');
  const decision = shown.events.find((event) => event.type === 'human-decision');
  assert.equal(decision?.data.decider, 'user:lead.kim');
  assert.equal(decision?.data.decision, 'approve');
  const refunds = shown.events.filter((event) => event.type === 'step-end' && event.data.name === 'issue_refund');
  assert.equal(refunds.length, 1);
  assert.deepEqual(JSON.parse(keel(database, 'escalations', '--json').stdout), { database, escalations: [] });
  // Nothing left to decide: a second approval is refused, in one line.
  const again = keel(database, 'approve', waiting.id);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^keel: error \[run-not-waiting\]: run .* is ok, not waiting for a decision\n$/);
  assert.equal(keel(database, 'audit', 'verify').code, 0);
});

test('a denial reaches the agent as the refund refused, with the decider and the reason; deny without a reason is refused', () => {
  const database = join(folder, 'deny.db');
  const demo = JSON.parse(keel(database, 'demo', '--json').stdout) as { runs: { id: string; status: string }[] };
  const waiting = demo.runs.find((run) => run.status === 'waiting');
  assert.ok(waiting !== undefined);
  assert.equal(keel(database, 'deny', waiting.id).code, 2);
  const denied = keel(database, 'deny', waiting.id, '--reason', 'damage not documented', '--as', 'lead.ana');
  assert.equal(denied.code, 0, denied.stderr);
  const shown = JSON.parse(keel(database, 'show', waiting.id, '--json').stdout) as { run: { status: string }; events: { type: string; data: Record<string, unknown> }[] };
  // The agent is told the refund was refused and says so to the customer; nothing is paid.
  assert.equal(shown.run.status, 'ok');
  const end = shown.events.find((event) => event.type === 'run-end')?.data as { output: { output: { answer: string; refundId: string | null } } };
  assert.equal(end.output.output.refundId, null);
  assert.match(end.output.output.answer, /couldn't issue the refund for order A-1003 .*denied by user:lead\.ana: damage not documented/);
  assert.ok(!shown.events.some((event) => event.type === 'step-start' && event.data.name === 'issue_refund'));
});

test('keel stop ends a waiting run at once, and halts a run another process is executing within 2 s', async () => {
  const database = join(folder, 'stop.db');
  const demo = JSON.parse(keel(database, 'demo', '--json').stdout) as { runs: { id: string; status: string }[] };
  const waiting = demo.runs.find((run) => run.status === 'waiting');
  assert.ok(waiting !== undefined);
  const stopped = keel(database, 'stop', waiting.id, '--reason', 'customer withdrew the request');
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stdout, /failed .* stopped by user:lead\.kim: customer withdrew the request/);

  // A run another process is executing, held inside a step (the fixture's hold hook) until the
  // stop request reaches its worker through the lease heartbeat.
  const held = join(folder, 'held.db');
  const tasks = join(import.meta.dirname, '..', '..', 'test', 'cli', 'fixtures', 'tasks.ts');
  const worker = spawn(process.execPath, [launcher, 'run', 'durable-count', '--input', '{"count":1}', '--tasks', tasks, '--db', held], {
    env: { ...process.env, KEEL_FIXTURE_HOLD: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let workerOutput = '';
  worker.stdout.setEncoding('utf8').on('data', (chunk: string) => (workerOutput += chunk));
  const exited = new Promise<number | null>((resolve) => worker.once('close', (code) => resolve(code)));
  const running = await new Promise<string>((resolve, reject) => {
    let text = '';
    worker.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      const match = /fixture: holding (run_[^:]+):/.exec(text);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    worker.once('close', () => reject(new Error(`keel run exited before its step started: ${text}`)));
  });
  const began = Date.now();
  const result = keel(held, 'stop', running, '--reason', 'drill');
  const took = Date.now() - began;
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /failed .* stopped by user:lead\.kim: drill/);
  assert.ok(took < 2_000 + 3_000, `stop took ${took} ms (process start-up included)`);
  // The process executing it saw the stop and reports the run's end itself.
  assert.equal(await exited, 1);
  assert.match(workerOutput, new RegExp(`^failed {2}${running} {2}durable-count {2}stopped by user:lead\\.kim: drill`));
});
