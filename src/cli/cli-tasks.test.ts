/**
 * `keel` serving a tasks module, in process (the end-to-end versions that spawn the command are
 * in test/cli). Each test has its own database.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../store/index.ts';
import { runCli } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-cli-tasks-'));
const fixtures = join(import.meta.dirname, '..', '..', 'test', 'cli', 'fixtures');
const tasksModule = join(fixtures, 'tasks.ts');
after(() => rmSync(folder, { recursive: true, force: true }));

async function keel(environment: NodeJS.ProcessEnv, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { output: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) }, environment, colour: false });
  return { code, stdout, stderr };
}

test('KEEL_TASKS names the module; run exits 0 for ok and 1 for failed, and the help says so', async () => {
  const environment = { KEEL_DB: join(folder, 'exit.db'), KEEL_TASKS: tasksModule };
  const ok = await keel(environment, 'run', 'durable-count', '--input', '{"count":2}');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^ok {2}run_\S+ {2}durable-count\noutput: \{"held":5,"prepared":4\}\n$/);
  const failed = await keel(environment, 'run', 'always-fails', '--json');
  assert.equal(failed.code, 1);
  assert.equal((JSON.parse(failed.stdout) as { status: string }).status, 'failed');
  const help = await keel(environment, '--help');
  assert.match(help.stdout, /0 {2}done; for run: the run ended ok or degraded, or waits for a person/);
  assert.match(help.stdout, /1 {2}failed; for run: the run ended failed or escalated/);
});

test("the config file's tasks path is resolved against the config file, not the working directory", async () => {
  const configFolder = join(folder, 'deploy', 'config');
  mkdirSync(configFolder, { recursive: true });
  const config = join(configFolder, 'keel.json');
  writeFileSync(config, JSON.stringify({ version: 1, routes: [], tasks: relative(configFolder, tasksModule) }));
  const result = await keel({ KEEL_DB: join(folder, 'config.db') }, 'run', 'durable-count', '--input', '{"count":1}', '--config', config, '--json');
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual((JSON.parse(result.stdout) as { output: unknown }).output, { prepared: 2, held: 3 });
});

test('a module exporting nothing servable and a task nobody serves are one-line errors that create no database', async () => {
  const database = join(folder, 'never.db');
  const nothing = await keel({ KEEL_DB: database }, 'run', 'durable-count', '--tasks', join(fixtures, 'exports-nothing.ts'));
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, /^keel: error \[tasks-invalid\]: tasks module .*exports-nothing\.ts exports no agent or task .*\n$/);
  const unknown = await keel({ KEEL_DB: database }, 'run', 'no-such-task', '--tasks', tasksModule);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^keel: error \[task-unknown\]: this process does not serve task no-such-task \(serving always-fails, durable-count, needs-approval, summarise from .*tasks\.ts\)\n$/);
  const demoOnly = await keel({ KEEL_DB: database }, 'run', 'durable-count');
  assert.match(demoOnly.stderr, /serving support-refund from the demo's tasks; name a tasks module with --tasks/);
  assert.equal(existsSync(database), false);
});

test('stop on a run that has ended says so, exits 0 and writes nothing', async () => {
  const environment = { KEEL_DB: join(folder, 'stop.db'), KEEL_TASKS: tasksModule };
  const { runId } = JSON.parse((await keel(environment, 'run', 'always-fails', '--json')).stdout) as { runId: string };
  const stopped = await keel(environment, 'stop', runId);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.equal(stopped.stdout, `${runId} had already ended failed (the fixture failed on purpose); nothing to stop\n`);
  const json = JSON.parse((await keel(environment, 'stop', runId, '--json')).stdout) as { stopped: unknown[]; alreadyEnded: { id: string; status: string }[] };
  assert.deepEqual(json.stopped, []);
  assert.deepEqual(json.alreadyEnded.map((run) => [run.id, run.status]), [[runId, 'failed']]);
  const store = await openStore({ database: environment.KEEL_DB, create: false });
  try {
    assert.equal((await store.getRun(runId))?.stopRequested, null);
  } finally {
    await store.close();
  }
});

test('replay against a candidate compares how the run ends: an answer, a failure or a wait the candidate reproduces matches', async () => {
  const environment = { KEEL_DB: join(folder, 'candidate.db'), KEEL_TASKS: tasksModule };
  const { runId } = JSON.parse((await keel(environment, 'run', 'always-fails', '--json')).stdout) as { runId: string };
  const replayed = await keel(environment, 'replay', runId, '--model', 'sim:default', '--json');
  assert.equal(replayed.code, 0, replayed.stderr);
  const report = JSON.parse(replayed.stdout) as { matches: boolean; recorded: { status: string }; candidateRun: { status: string } };
  assert.deepEqual([report.matches, report.recorded.status, report.candidateRun.status], [true, 'failed', 'failed']);

  const echo = JSON.parse((await keel(environment, 'run', 'summarise', '--input', '{"text":"hello","style":"echo"}', '--json')).stdout) as { runId: string };
  const same = await keel(environment, 'replay', echo.runId, '--model', 'sim:fast');
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /candidate: ok, 0 tool calls/);

  const waiting = JSON.parse((await keel(environment, 'run', 'needs-approval', '--input', '{"title":"t"}', '--json')).stdout) as { runId: string };
  const parked = JSON.parse((await keel(environment, 'replay', waiting.runId, '--model', 'sim:default', '--json')).stdout) as { matches: boolean; candidateRun: { status: string } };
  assert.deepEqual([parked.matches, parked.candidateRun.status], [true, 'waiting']);
});

test("the demo's header names the configured route's models, not --model", async () => {
  const config = join(folder, 'route.json');
  writeFileSync(config, JSON.stringify({ version: 1, routes: [{ name: 'support', models: ['sim:fast', 'sim:default'] }] }));
  const result = await keel({ KEEL_DB: join(folder, 'demo.db') }, 'demo', '--config', config);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout.split('\n')[0] ?? '', /^Keel demo: a support agent on route support \(sim:fast, sim:default\), journaled in /);
});
