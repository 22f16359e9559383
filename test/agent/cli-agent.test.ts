/**
 * A user's agent served by the real `keel` command: run, SIGKILL mid-run, resume; an approval that
 * parks the run, decided from another process; replay byte for byte. Timing comes from hooks (a line
 * the fixture prints when its first tool has run; the simulator's hang fault), never sleeps.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const tasks = join(import.meta.dirname, 'fixtures', 'refund-agents.ts');
const folder = mkdtempSync(join(tmpdir(), 'keel-cli-agent-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function environment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, KEEL_FIXTURE_HANG: _hang, ...rest } = process.env;
  return { ...rest, NO_COLOR: '1', ...extra };
}

/** Starts `keel ARGS`; `until` resolves when stderr matches, `done` when the process ends. */
function keel(args: string[], extra: Record<string, string> = {}, until?: RegExp) {
  const child = spawn(process.execPath, [launcher, ...args], { cwd: folder, env: environment(extra) });
  let stdout = '';
  let stderr = '';
  let announce: () => void = () => undefined;
  const announced = new Promise<void>((resolve) => (announce = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (until?.test(stderr) === true) announce();
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  // Only a caller that waits for a line gets the promise that fails when the process ends first.
  const waitForLine = () => Promise.race([announced, done.then(() => Promise.reject(new Error(`keel ${args.join(' ')} ended before ${String(until)}: ${stderr}`)))]);
  return { child, waitForLine, done };
}

const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

test('an agent run killed mid-run is finished by keel resume', async () => {
  const database = join(folder, 'crash.db');
  const running = keel(['run', 'refund-agent', '--tasks', tasks, '--db', database, '--input', '{"message":"Refund A-1"}', '--json'], { KEEL_FIXTURE_HANG: '1' }, /lookup_order A-1 ran/);
  await running.waitForLine();
  running.child.kill('SIGKILL');
  await running.done;
  const resumed = await keel(['resume', '--tasks', tasks, '--db', database, '--json']).done;
  assert.equal(resumed.code, 0, resumed.stderr);
  const runs = json((await keel(['runs', '--db', database, '--json']).done).stdout).runs as { id: string; status: string }[];
  assert.deepEqual(runs.map((run) => run.status), ['ok']);
  const shown = json((await keel(['show', runs[0]?.id ?? '', '--db', database, '--json']).done).stdout) as { chain: { ok: boolean }; events: { type: string; data: { name?: string; kind?: string } }[] };
  assert.equal(shown.chain.ok, true);
  assert.equal(shown.events.filter((event) => event.type === 'run-resume').length, 2, 'started, then resumed in another process');
  assert.equal(shown.events.filter((event) => event.type === 'step-start' && event.data.kind === 'tool-call' && event.data.name === 'issue_refund').length, 1, 'the refund ran once');
});

test('a refund that needs approval waits; keel approve in another process completes it; replay matches byte for byte', async () => {
  const database = join(folder, 'approval.db');
  const started = await keel(['run', 'refund-agent', '--tasks', tasks, '--db', database, '--input', '{"message":"Refund A-1 big"}', '--principal', 'ada', '--tenant', 'acme', '--json']).done;
  assert.equal(started.code, 0, started.stderr);
  const run = json(started.stdout);
  assert.equal(run.status, 'waiting');
  const runId = String(run.runId ?? run.id);
  const approved = await keel(['approve', runId, '--tasks', tasks, '--db', database, '--as', 'lead', '--json']).done;
  assert.equal(approved.code, 0, approved.stderr);
  const runs = json((await keel(['runs', '--db', database, '--json']).done).stdout).runs as { id: string; status: string }[];
  assert.deepEqual(runs.map((item) => [item.id, item.status]), [[runId, 'ok']]);
  const replayed = await keel(['replay', runId, '--tasks', tasks, '--db', database]).done;
  assert.equal(replayed.code, 0, `${replayed.stdout}${replayed.stderr}`);
});
