/**
 * End to end: the real `keel` command (bin/keel.js, on this Node) serving the tasks module in
 * fixtures/tasks.ts, each test with its own SQLite file in a temporary working directory. Timing
 * is driven by hooks, never sleeps: the fixture's `hold` step announces itself on stderr and hangs
 * until it is aborted or killed; the worker prints a line when it is ready and one per run.
 */
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import { verifyChain } from '../../src/journal/index.ts';
import type { RunRecordV1 } from '../../src/spec/index.ts';
import { openStore } from '../../src/store/index.ts';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const fixtures = join(import.meta.dirname, 'fixtures');
const tasksModule = join(fixtures, 'tasks.ts');
const folder = mkdtempSync(join(tmpdir(), 'keel-command-'));
after(() => rmSync(folder, { recursive: true, force: true }));

/** The child's environment: nothing of ours leaks in (no KEEL_DB, KEEL_TASKS or KEEL_CONFIG from outside). */
function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, ...rest } = process.env;
  return { ...rest, NO_COLOR: '1', USER: 'tester', ...extra };
}

interface Child {
  process: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first match of `pattern` in the stream; rejects if the process exits first. */
  line: (stream: 'stdout' | 'stderr', pattern: RegExp) => Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[], extra: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, [launcher, ...args], { cwd: folder, env: environment(extra) });
  const text = { stdout: '', stderr: '' };
  const waiters: { stream: 'stdout' | 'stderr'; pattern: RegExp; resolve: (match: RegExpMatchArray) => void; reject: (error: Error) => void }[] = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      const match = text[waiter.stream].match(waiter.pattern);
      if (match === null) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(match);
    }
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    text.stdout += chunk;
    check();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    text.stderr += chunk;
    check();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      for (const waiter of waiters.splice(0)) waiter.reject(new Error(`keel ${args.join(' ')} exited (${code ?? signal}) before printing ${waiter.pattern}\nstdout: ${text.stdout}\nstderr: ${text.stderr}`));
      resolve({ code, signal });
    });
  });
  return {
    process: child,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    line: (stream, pattern) =>
      new Promise((resolve, reject) => {
        waiters.push({ stream, pattern, resolve, reject });
        check();
      }),
    exited,
  };
}

/** Runs `keel ARGS` to its end. */
async function keel(args: string[], extra: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = start(args, extra);
  const { code } = await child.exited;
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

async function readRun(database: string, runId: string): Promise<{ run: RunRecordV1 | undefined; chainOk: boolean; output: unknown }> {
  const store = await openStore({ database, create: false });
  try {
    const run = await store.getRun(runId);
    const journal = await store.readJournal(runId);
    const end = journal.find((record) => record.type === 'run-end');
    return { run, chainOk: verifyChain(journal).ok, output: (end?.data as { output?: unknown } | undefined)?.output };
  } finally {
    await store.close();
  }
}

test('keel run is killed mid-run with SIGKILL; keel resume finishes it without redoing the committed step', async () => {
  const database = join(folder, 'crash.db');
  const effects = join(folder, 'effects.log');
  const running = start(['run', 'durable-count', '--input', '{"count":5}', '--tasks', tasksModule, '--db', database], { KEEL_FIXTURE_HOLD: '1', KEEL_FIXTURE_EFFECTS: effects });
  const [, runId = ''] = await running.line('stderr', /fixture: holding (run_[^:]+):/);
  running.process.kill('SIGKILL');
  assert.equal((await running.exited).signal, 'SIGKILL');
  assert.equal((await readRun(database, runId)).run?.status, 'running');

  const resumed = await keel(['resume', '--tasks', tasksModule, '--db', database], { KEEL_FIXTURE_EFFECTS: effects });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`ok {2}${runId}`));
  const after = await readRun(database, runId);
  assert.equal(after.run?.status, 'ok');
  assert.deepEqual(after.output, { prepared: 10, held: 11 });
  assert.ok(after.chainOk);
  assert.deepEqual(readFileSync(effects, 'utf8').trim().split('\n'), [`prepare ${runId}`], 'the committed side effect ran once');
});

test('a run waiting for approval is approved by another keel process and completes', async () => {
  const database = join(folder, 'approval.db');
  const started = await keel(['run', 'needs-approval', '--input', '{"title":"release notes"}', '--tasks', tasksModule, '--db', database, '--json']);
  assert.equal(started.code, 0, started.stderr);
  const outcome = JSON.parse(started.stdout) as { runId: string; status: string; reason: string };
  assert.equal(outcome.status, 'waiting');
  assert.match(outcome.reason, /publishing "release notes" needs an editor/);

  const approved = await keel(['approve', outcome.runId, '--as', 'editor.eve', '--db', database], { KEEL_TASKS: tasksModule });
  assert.equal(approved.code, 0, approved.stderr);
  assert.match(approved.stdout, /user:editor\.eve approved .*; the run is now ok/);
  const after = await readRun(database, outcome.runId);
  assert.equal(after.run?.status, 'ok');
  assert.deepEqual(after.output, { published: 'draft of release notes', approvedBy: 'user:editor.eve' });
});

test('keel replay verifies model inputs byte for byte; a candidate model that answers differently fails it', async () => {
  const database = join(folder, 'replay.db');
  const summary = await keel(['run', 'summarise', '--input', '{"text":"The quarterly report is late.","style":"summary"}', '--tasks', tasksModule, '--db', database, '--json']);
  assert.equal(summary.code, 0, summary.stderr);
  const { runId } = JSON.parse(summary.stdout) as { runId: string };

  const replayed = await keel(['replay', runId, '--tasks', tasksModule, '--db', database]);
  assert.equal(replayed.code, 0, replayed.stderr);
  assert.match(replayed.stdout, /all 2 model inputs match the journal byte for byte/);

  // The run answered from the module's own script; another simulated model says something else.
  const differs = await keel(['replay', runId, '--model', 'sim:fast', '--tasks', tasksModule, '--db', database]);
  assert.equal(differs.code, 1, differs.stdout);
  assert.match(differs.stderr, /sim:fast does not reproduce .*: output \{"summary":"Summary \(3 messages\)"\} → \{"summary":"Acknowledged: Now in one line\."\}/);

});

test('keel resume leaves a run of a task it does not serve, naming the task, and never claims it', async () => {
  const database = join(folder, 'unserved.db');
  const queued = await keel(['run', 'other-task', '--input', '{"n":2}', '--enqueue', '--tasks', join(fixtures, 'other-tasks.ts'), '--db', database, '--json']);
  assert.equal(queued.code, 0, queued.stderr);
  const { runId } = JSON.parse(queued.stdout) as { runId: string };

  const began = performance.now();
  const resumed = await keel(['resume', '--tasks', tasksModule, '--db', database]);
  const took = performance.now() - began;
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`left {2}${runId} {2}task other-task is not served here`));
  assert.ok(took < 10_000, `keel resume took ${Math.round(took)} ms`);
  const after = await readRun(database, runId);
  assert.equal(after.run?.status, 'queued');
  assert.equal(after.run?.leaseOwner, null);
  assert.equal(after.run?.stepCount, 0);
});

test('keel worker (tasks named by the config file) executes an enqueued run and exits 0 on SIGTERM', async () => {
  const database = join(folder, 'worker.db');
  const config = join(folder, 'keel.json');
  writeFileSync(config, JSON.stringify({ version: 1, routes: [], tasks: relative(folder, tasksModule) }));
  const worker = start(['worker', '--config', config, '--db', database, '--concurrency', '2']);
  const [, workerId] = await worker.line('stdout', /keel worker (\S+) serving tasks (.*) from/);
  assert.match(worker.stdout(), /serving tasks .*durable-count/);

  const queued = await keel(['run', 'durable-count', '--input', '{"count":4}', '--enqueue', '--config', config, '--db', database, '--json']);
  assert.equal(queued.code, 0, queued.stderr);
  const { runId } = JSON.parse(queued.stdout) as { runId: string };
  await worker.line('stdout', new RegExp(`ok {2}${runId} {2}durable-count`));
  worker.process.kill('SIGTERM');
  assert.deepEqual(await worker.exited, { code: 0, signal: null });
  assert.match(worker.stdout(), new RegExp(`keel worker ${workerId} stopped`));
  assert.deepEqual((await readRun(database, runId)).output, { prepared: 8, held: 9 });
});

test('keel worker releases a run still in flight on a second signal; another process resumes it', async () => {
  const database = join(folder, 'release.db');
  const worker = start(['worker', '--tasks', tasksModule, '--db', database], { KEEL_FIXTURE_HOLD: '1' });
  await worker.line('stdout', /keel worker \S+ serving tasks/);
  const queued = await keel(['run', 'durable-count', '--input', '{"count":1}', '--enqueue', '--tasks', tasksModule, '--db', database, '--json']);
  const { runId } = JSON.parse(queued.stdout) as { runId: string };
  await worker.line('stderr', new RegExp(`fixture: holding ${runId}`));
  worker.process.kill('SIGTERM');
  await worker.line('stdout', /stopping \(SIGTERM\): no new runs/);
  worker.process.kill('SIGTERM');
  assert.deepEqual(await worker.exited, { code: 0, signal: null });
  const released = await readRun(database, runId);
  assert.equal(released.run?.status, 'running');
  assert.equal(released.run?.leaseOwner, null, 'the lease was released, not left to expire');

  const resumed = await keel(['resume', '--tasks', tasksModule, '--db', database]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal((await readRun(database, runId)).run?.status, 'ok');
});

test('bad tasks modules and bad input stop the command in one line, with a non-zero exit and no database', async () => {
  const database = join(folder, 'never.db');
  const cases: { args: string[]; code: number; message: RegExp }[] = [
    { args: ['run', 'durable-count', '--tasks', './missing-tasks.ts'], code: 1, message: /^keel: error \[tasks-invalid\]: tasks module .*missing-tasks\.ts not found$/ },
    {
      args: ['worker', '--tasks', join(fixtures, 'throws-on-import.ts')],
      code: 1,
      message: /^keel: error \[tasks-invalid\]: tasks module .*throws-on-import\.ts failed to load: the tasks module could not start: DATABASE_URL is not set$/,
    },
    { args: ['run', 'durable-count', '--tasks', tasksModule, '--input', '{"count":'], code: 2, message: /^keel: error \[usage-invalid\]: --input is not valid JSON: / },
  ];
  for (const { args, code, message } of cases) {
    const result = await keel([...args, '--db', database]);
    assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stdout, '');
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? '', message);
  }
  assert.equal(existsSync(database), false);
});
