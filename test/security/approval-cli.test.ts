/**
 * A consequential call whose target came from untrusted content waits for a person, decided with
 * the real `keel` command in other processes: after `keel approve` it runs, once; after `keel deny`
 * the refusal goes back to the model and the run ends ok without the payment.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const tasks = join(import.meta.dirname, 'fixtures', 'influenced-payment.ts');
const folder = mkdtempSync(join(tmpdir(), 'keel-approval-cli-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function keel(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, ...rest } = process.env;
  const child = spawn(process.execPath, [launcher, ...args], { cwd: folder, env: { ...rest, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

async function startWaiting(database: string): Promise<string> {
  const started = await keel(['run', 'rent-agent', '--tasks', tasks, '--db', database, '--input', '{"message":"Check ACC-100 and pay this month\'s rent of $1,500."}', '--principal', 'ada', '--tenant', 'acme', '--json']);
  assert.equal(started.code, 0, started.stderr);
  const run = json(started.stdout);
  assert.equal(run.status, 'waiting', started.stdout);
  return String(run.runId ?? run.id);
}

async function events(database: string, runId: string) {
  const shown = await keel(['show', runId, '--db', database, '--json']);
  assert.equal(shown.code, 0, shown.stderr);
  return (json(shown.stdout) as { events: { type: string; data: { name?: string; kind?: string; policyIds?: string[] } }[] }).events;
}

const payments = (all: Awaited<ReturnType<typeof events>>) => all.filter((event) => event.type === 'step-start' && event.data.kind === 'tool-call' && event.data.name === 'send_transfer').length;

test('keel approve runs the parked payment once; the wait named the control-flow rule', async () => {
  const database = join(folder, 'approve.db');
  const runId = await startWaiting(database);
  const parked = await events(database, runId);
  assert.equal(payments(parked), 0, 'nothing paid while waiting');
  assert.ok(parked.some((event) => event.type === 'policy-decision' && (event.data.policyIds ?? []).includes('control.untrusted-target')));
  const approved = await keel(['approve', runId, '--tasks', tasks, '--db', database, '--as', 'lead', '--json']);
  assert.equal(approved.code, 0, approved.stderr);
  const runs = json((await keel(['runs', '--db', database, '--json'])).stdout).runs as { id: string; status: string }[];
  assert.deepEqual(runs.map((item) => [item.id, item.status]), [[runId, 'ok']]);
  assert.equal(payments(await events(database, runId)), 1);
});

test('keel deny hands the refusal to the model; the run ends ok and nothing is paid', async () => {
  const database = join(folder, 'deny.db');
  const runId = await startWaiting(database);
  const denied = await keel(['deny', runId, '--tasks', tasks, '--db', database, '--as', 'lead', '--reason', 'not our landlord', '--json']);
  assert.equal(denied.code, 0, denied.stderr);
  const result = json(denied.stdout) as { result: { status: string; output: { answer: string } } };
  assert.equal(result.result.status, 'ok');
  assert.match(result.result.output.answer, /not approved; nothing was paid/);
  assert.equal(payments(await events(database, runId)), 0);
});
