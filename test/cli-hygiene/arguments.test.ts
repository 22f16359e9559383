/**
 * The real `keel` command checks its arguments before it does anything: an argument or option a
 * command does not take and a number it could not use are one line, exit 2, and nothing opened
 * or created. `keel resume RUN` used to resume every run, and `--limit 99999999999999999999` to
 * reach the database and come back as db-unavailable.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { assertOneLineError, fileState, keel, tasksModule } from './keel-process.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-arguments-'));
after(() => rmSync(folder, { recursive: true, force: true }));

test('keel resume RUN is refused, saying what resume takes, and the run it named and every other stay queued', async () => {
  const database = join(folder, 'queued.db');
  const queued: string[] = [];
  for (const count of [1, 2]) {
    const started = await keel(['run', 'durable-count', '--input', `{"count":${count}}`, '--enqueue', '--json', '--tasks', tasksModule, '--db', database], { cwd: folder });
    assert.equal(started.code, 0, started.stderr);
    queued.push((JSON.parse(started.stdout) as { runId: string }).runId);
  }
  const before = fileState(database);
  const refused = await keel(['resume', queued[0] ?? '', '--tasks', tasksModule, '--db', database], { cwd: folder });
  assertOneLineError(refused, 2, 'usage-invalid', 'keel resume RUN');
  assert.match(refused.stderr, /keel resume takes no arguments; got "run_[^"]+" \(usage: keel resume \[--tasks PATH\]; it resumes every open run of the tasks it serves/);
  assert.equal(fileState(database), before, 'the database is unchanged');
  const listed = await keel(['runs', '--json', '--db', database], { cwd: folder });
  assert.deepEqual((JSON.parse(listed.stdout) as { runs: { id: string; status: string }[] }).runs.map((run) => run.status), ['queued', 'queued']);
});

test('every command refuses an argument it does not take, before opening or creating anything', async () => {
  const database = join(folder, 'never-created.db');
  const cases: [string[], RegExp][] = [
    [['runs', 'extra'], /^keel runs takes no arguments; got "extra" \(usage: keel runs/],
    [['escalations', 'extra'], /^keel escalations takes no arguments/],
    [['audit', 'verify', 'extra'], /^keel audit verify takes no arguments/],
    [['demo', 'extra'], /^keel demo takes no arguments/],
    [['worker', 'extra'], /^keel worker takes no arguments/],
    [['show', 'run_a', 'run_b'], /^keel show takes RUN only; got "run_b"/],
    [['replay', 'run_a', 'run_b'], /^keel replay takes RUN only/],
    [['approve', 'run_a', 'run_b'], /^keel approve takes RUN only/],
    [['deny', 'run_a', 'run_b', '--reason', 'no'], /^keel deny takes RUN only/],
    [['stop', 'run_a', 'run_b'], /^keel stop takes RUN only/],
    [['run', 'durable-count', 'extra', '--tasks', tasksModule], /^keel run takes TASK only/],
    [['show'], /^keel show needs RUN \(usage: keel show RUN\)/],
    [['audit'], /^keel audit needs a sub-command: keel audit verify/],
  ];
  for (const [args, message] of cases) {
    const result = await keel([...args, '--db', database], { cwd: folder });
    assertOneLineError(result, 2, 'usage-invalid', `keel ${args.join(' ')}`);
    assert.match(result.stderr.replace('keel: error [usage-invalid]: ', ''), message, `keel ${args.join(' ')}`);
  }
  assert.equal(existsSync(database), false);
});

test('an option the command does not use is refused in one line naming it', async () => {
  const database = join(folder, 'never-created.db');
  const cases: [string[], string][] = [
    [['runs', '--input', '{}'], 'keel runs does not take --input'],
    [['show', 'run_a', '--limit', '5'], 'keel show does not take --limit'],
    [['worker', '--json'], 'keel worker does not take --json'],
    [['audit', 'verify', '--config', 'keel.config.json'], 'keel audit verify does not take --config'],
    [['stop', '--all', '--tasks', tasksModule], 'keel stop does not take --tasks'],
  ];
  for (const [args, message] of cases) {
    const result = await keel([...args, '--db', database], { cwd: folder });
    assertOneLineError(result, 2, 'usage-invalid', `keel ${args.join(' ')}`);
    assert.ok(result.stderr.startsWith(`keel: error [usage-invalid]: ${message} (usage: keel `), result.stderr);
  }
  assert.equal(existsSync(database), false);
});

test('numeric options are whole numbers in range, checked before the database is opened', async () => {
  const database = join(folder, 'numbers.db');
  const started = await keel(['run', 'durable-count', '--input', '{"count":1}', '--tasks', tasksModule, '--db', database], { cwd: folder });
  assert.equal(started.code, 0, started.stderr);
  const before = fileState(database);
  const cases: [string[], string][] = [
    [['runs', '--limit', '99999999999999999999'], '--limit must be a whole number from 1 to 1000000000; got "99999999999999999999"'],
    [['runs', '--limit', '0'], '--limit must be a whole number from 1 to 1000000000; got "0"'],
    [['runs', '--limit', '1e3'], '--limit must be a whole number from 1 to 1000000000; got "1e3"'],
    [['runs', '--limit', ''], '--limit must be a whole number from 1 to 1000000000; got ""'],
    [['runs', '--limit=-5'], '--limit must be a whole number from 1 to 1000000000; got "-5"'],
    [['worker', '--concurrency', '0'], '--concurrency must be a whole number from 1 to 10000; got "0"'],
    [['worker', '--concurrency', '2.5'], '--concurrency must be a whole number from 1 to 10000; got "2.5"'],
    [['demo', '--seed', '4294967296'], '--seed must be a whole number from 0 to 4294967295; got "4294967296"'],
  ];
  for (const [args, message] of cases) {
    const result = await keel([...args, '--db', database], { cwd: folder });
    assertOneLineError(result, 2, 'usage-invalid', `keel ${args.join(' ')}`);
    assert.equal(result.stderr, `keel: error [usage-invalid]: ${message}\n`);
  }
  assert.equal(fileState(database), before);
  const limited = await keel(['runs', '--limit', '1000000000', '--json', '--db', database], { cwd: folder });
  assert.equal(limited.code, 0, limited.stderr);
  assert.equal((JSON.parse(limited.stdout) as { runs: unknown[] }).runs.length, 1);
});
