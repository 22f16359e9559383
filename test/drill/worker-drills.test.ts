/**
 * Drills on a schedule: `keel worker` with a config `drills` entry runs the drill on its timer
 * against the agent it serves (here the demo's support agent) and journals each report as a
 * `drill:<task>` run; a fault the config misspells stops the worker at start, naming it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadRun } from '../../src/journal/index.ts';
import { openStore } from '../../src/store/index.ts';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-worker-drills-'));

after(() => rmSync(folder, { recursive: true, force: true }));

function worker(config: string) {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, ...environment } = process.env;
  const child = spawn(process.execPath, [launcher, 'worker', '--db', 'keel.db', '--config', config], { cwd: folder, env: { ...environment, NO_COLOR: '1' } });
  let output = '';
  const listeners: (() => void)[] = [];
  const onData = (chunk: string) => {
    output += chunk;
    for (const listener of listeners) listener();
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const printed = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const found = pattern.exec(output);
        if (found !== null) resolve(found);
      };
      listeners.push(check);
      check();
      void exited.then(() => reject(new Error(`the worker exited before printing ${pattern}:\n${output}`)));
    });
  return { child, exited, printed, output: () => output };
}

function keel(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, ...environment } = process.env;
  const child = spawn(process.execPath, [launcher, ...args], { cwd: folder, env: { ...environment, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

let drilled = '';

test('keel worker runs a scheduled drill and journals its report as a drill run; keel show prints the report as HTML', { timeout: 120_000 }, async () => {
  const config = join(folder, 'keel.json');
  writeFileSync(config, JSON.stringify({ version: 1, routes: [], drills: [{ task: 'support-refund', fault: 'tool-down', every: 1 }] }));
  const running = worker(config);
  let line: RegExpExecArray;
  try {
    line = await running.printed(/drill {3}tool-down on support-refund: PASS {2}report (run_\S+)/);
  } finally {
    running.child.kill('SIGTERM');
  }
  assert.equal(await running.exited, 0, running.output());
  const store = await openStore({ database: join(folder, 'keel.db'), create: false, environment: {} });
  try {
    const { events } = await loadRun(store, line[1] ?? '');
    const start = events[0];
    assert.ok(start?.type === 'run-start' && start.data.task === 'drill:support-refund');
    assert.ok(events.some((event) => event.type === 'alert-raise' && event.data.kind === 'tool-down'));
    const end = events.at(-1);
    assert.ok(end?.type === 'run-end' && end.data.status === 'ok' && (end.data.output as { pass?: boolean }).pass === true);
    drilled = (end.data.output as { runs: { runId: string }[] }).runs[0]?.runId ?? '';
  } finally {
    await store.close();
  }
  // The scheduled drill wrote no page; its journaled report prints as one.
  const page = join(folder, 'scheduled-drill.html');
  const shown = await keel(['show', line[1] ?? '', '--html', page, '--db', 'keel.db']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.equal(shown.stdout, `wrote ${page}\n`);
  assert.match(readFileSync(page, 'utf8'), /Drill <code>tool-down<\/code> on <code>support-refund<\/code>: <span class="pass">PASS<\/span>/);
  const notReport = await keel(['show', drilled, '--html', join(folder, 'nope.html'), '--db', 'keel.db']);
  assert.equal(notReport.code, 2);
  assert.match(notReport.stderr, /^keel: error \[usage-invalid\]: --html prints the report of a finished drill:TASK or eval:DATASET run; this run is support-refund, ended failed\n$/);
});

test('a scheduled drill with an unknown fault stops the worker at start, naming it', async () => {
  const config = join(folder, 'bad.json');
  writeFileSync(config, JSON.stringify({ version: 1, routes: [], drills: [{ task: 'support-refund', fault: 'gremlins', every: 60 }] }));
  const running = worker(config);
  assert.equal(await running.exited, 1, running.output());
  assert.match(running.output(), /keel: error \[config-invalid\]: .*bad\.json: drills\[0\]\.fault: unknown fault 'gremlins' \(known: retrieval-down/);
});
