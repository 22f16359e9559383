/**
 * End to end: runs created at known times around a Monday (through the store's createRun, whose
 * run-start time becomes the run's created_at) on a SQLite file, then the real `keel` (bin/keel.js,
 * on this Node) lists them by creation time (`keel runs --since --until`) with the other filters,
 * and refuses a bad period in one line, as `keel spend` does with the same options.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { genesisHash, sealEvent, toRecord } from '../../src/journal/index.ts';
import type { RunStatusV1 } from '../../src/spec/index.ts';
import { SqliteStore } from '../../src/store/index.ts';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-runs-by-time-'));
const database = join(folder, 'keel.db');
after(() => rmSync(folder, { recursive: true, force: true }));

// No provider keys and no KEEL_ settings reach the children.
const environment = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(OPENAI_|ANTHROPIC_|KEEL_)/.test(name))), NO_COLOR: '1' };

function keel(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [launcher, ...args], { encoding: 'utf8', env: environment, cwd: folder });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function listed(args: string[]): string[] {
  const result = keel(['runs', '--json', '--db', database, ...args]);
  assert.equal(result.status, 0, result.stderr);
  return (JSON.parse(result.stdout) as { runs: { id: string }[] }).runs.map((run) => run.id);
}

// Monday 30 November 2026 is the week's start; each run is named by when it was created.
const runs: { id: string; createdAt: string; status: RunStatusV1; tags?: Record<string, string> }[] = [
  { id: 'run-friday', createdAt: '2026-11-27T10:00:00.000Z', status: 'failed', tags: { project: 'search' } },
  { id: 'run-sunday-last-ms', createdAt: '2026-11-29T23:59:59.999Z', status: 'failed', tags: { project: 'search' } },
  { id: 'run-monday-start', createdAt: '2026-11-30T00:00:00.000Z', status: 'failed', tags: { project: 'search' } },
  { id: 'run-monday-ok', createdAt: '2026-11-30T08:30:00.000Z', status: 'ok', tags: { project: 'search' } },
  { id: 'run-tuesday-ads', createdAt: '2026-12-01T12:00:00.000Z', status: 'failed', tags: { project: 'ads' } },
  { id: 'run-wednesday', createdAt: '2026-12-02T09:15:00.000Z', status: 'failed', tags: { project: 'search', team: 'core' } },
  { id: 'run-thursday-untagged', createdAt: '2026-12-03T10:00:00.000Z', status: 'failed' },
  { id: 'run-next-monday', createdAt: '2026-12-07T00:00:00.000Z', status: 'failed', tags: { project: 'search' } },
];

before(async () => {
  const store = SqliteStore.open({ path: database });
  try {
    for (const run of runs) {
      const tags = run.tags === undefined ? {} : { tags: run.tags };
      const start = { task: 'answer', taskVersion: '1', input: null, principal: 'user:ada', tenant: 'acme', configHash: 'c', config: null, ...tags };
      const first = sealEvent({ runId: run.id, seq: 1, prevHash: genesisHash }, 'run-start', start, new Date(run.createdAt));
      await store.createRun({ run: { id: run.id, task: 'answer', taskVersion: '1', principal: 'user:ada', tenant: 'acme', status: run.status, ...tags }, first: toRecord(first) });
    }
  } finally {
    await store.close();
  }
});

test('keel runs --since/--until lists the runs created in [since, until), newest first, with --status, --tag and --limit', () => {
  // "The failed runs of project=search since Monday": Monday's first millisecond is in, Sunday's last is not.
  assert.deepEqual(listed(['--status', 'failed', '--tag', 'project=search', '--since', '2026-11-30T00:00Z']), ['run-next-monday', 'run-wednesday', 'run-monday-start']);
  // until is not included: the run created at it exactly is left out, one a millisecond later is in.
  const week = ['run-wednesday', 'run-monday-start'];
  assert.deepEqual(listed(['--status', 'failed', '--tag', 'project=search', '--since', '2026-11-30T00:00Z', '--until', '2026-12-07T00:00Z']), week);
  assert.deepEqual(listed(['--status', 'failed', '--tag', 'project=search', '--since', '2026-11-30T00:00Z', '--until', '2026-12-07T00:00:00.001Z']), ['run-next-monday', ...week]);
  // The same instants with offsets.
  assert.deepEqual(listed(['--status', 'failed', '--tag', 'project=search', '--since', '2026-11-30T01:00+01:00', '--until', '2026-12-06T19:00:00-05:00']), week);
  assert.deepEqual(listed(['--since', '2026-11-30T00:00:00.000Z']), ['run-next-monday', 'run-thursday-untagged', 'run-wednesday', 'run-tuesday-ads', 'run-monday-ok', 'run-monday-start']);
  assert.deepEqual(listed(['--until', '2026-11-30T00:00:00.000Z']), ['run-sunday-last-ms', 'run-friday']);
  assert.deepEqual(listed(['--since', '2026-11-29T23:59:59.999Z', '--until', '2026-11-30T00:00:00.001Z']), ['run-monday-start', 'run-sunday-last-ms']);
  assert.deepEqual(listed(['--since', '2026-11-30T00:00Z', '--until', '2026-12-07T00:00Z', '--limit', '2']), ['run-thursday-untagged', 'run-wednesday']);
  assert.deepEqual(listed(['--since', '2026-11-30T00:00Z', '--until', '2026-11-30T00:00Z']), []);

  const table = keel(['runs', '--since', '2026-11-30T00:00Z', '--until', '2026-12-07T00:00Z', '--tag', 'project=ads', '--db', database]);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /RUN\s+TASK\s+STATUS/);
  assert.deepEqual(
    runs.map((run) => run.id).filter((id) => table.stdout.includes(id)),
    ['run-tuesday-ads'],
  );
  const none = keel(['runs', '--status', 'failed', '--tag', 'project=search', '--since', '2026-12-03T00:00Z', '--until', '2026-12-04T00:00+00:00', '--db', database]);
  assert.equal(none.status, 0, none.stderr);
  assert.equal(none.stdout, `No runs with status failed, tag project=search, created since 2026-12-03T00:00:00.000Z and before 2026-12-04T00:00:00.000Z in ${database}.\n`);
  const before = keel(['runs', '--until', '2026-11-01T00:00Z', '--db', database]);
  assert.equal(before.stdout, `No runs created before 2026-11-01T00:00:00.000Z in ${database}.\n`);
});

test('keel runs and keel spend take the same periods: the same runs are counted for each form', () => {
  const periods: [string, string][] = [
    ['2026-11-30T00:00Z', '2026-12-07T00:00Z'],
    ['2026-11-30T01:00+01:00', '2026-12-06T19:00:00-05:00'],
    ['2026-11-29T23:59:59.999Z', '2026-11-30T00:00:00.001Z'],
    ['2026-11-29T23:59:59.9990001Z', '2026-12-07T00:00:00.0000001Z'],
  ];
  for (const [since, until] of periods) {
    const listing = listed(['--since', since, '--until', until, '--limit', '1000']);
    const spend = keel(['spend', '--json', '--since', since, '--until', until, '--db', database]);
    assert.equal(spend.status, 0, spend.stderr);
    assert.equal((JSON.parse(spend.stdout) as { total: { runs: number } }).total.runs, listing.length, `${since} to ${until}`);
  }
  // A sub-millisecond fraction after a run's time is after it, for both.
  assert.deepEqual(listed(['--since', '2026-11-29T23:59:59.9990001Z', '--until', '2026-12-07T00:00:00.0000001Z']).at(0), 'run-next-monday');
  assert.deepEqual(listed(['--since', '2026-11-29T23:59:59.9990001Z', '--until', '2026-12-07T00:00:00.0000001Z']).at(-1), 'run-monday-start');
});

test('a bad --since or --until is one line naming the option, exit 2, before any database is opened; keel spend says the same', () => {
  const missing = join(folder, 'missing.db');
  const refused: [string[], string][] = [
    [['--since', '2026-11-30'], '--since must be an ISO-8601 time with its zone, such as 2026-11-01T00:00:00.000Z, got "2026-11-30"'],
    [['--until', 'monday'], '--until must be an ISO-8601 time with its zone, such as 2026-11-01T00:00:00.000Z, got "monday"'],
    [['--since', '2026-11-30T00:00:00'], '--since must be an ISO-8601 time with its zone, such as 2026-11-01T00:00:00.000Z, got "2026-11-30T00:00:00"'],
    [['--until', '2026-02-30T00:00Z'], '--until must be an ISO-8601 time with its zone, such as 2026-11-01T00:00:00.000Z, got "2026-02-30T00:00Z"'],
    [['--since', ''], '--since must be an ISO-8601 time with its zone, such as 2026-11-01T00:00:00.000Z, got ""'],
    [['--since', '2026-12-07T00:00Z', '--until', '2026-11-30T00:00Z'], '--since 2026-12-07T00:00Z is after --until 2026-11-30T00:00Z'],
  ];
  for (const [args, message] of refused) {
    for (const command of ['runs', 'spend']) {
      const result = keel([command, ...args, '--db', missing]);
      assert.equal(result.status, 2, `${command} ${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr, `keel: error [usage-invalid]: ${message}\n`, `${command} ${args.join(' ')}`);
      assert.equal(result.stdout, '');
    }
  }
  assert.equal(existsSync(missing), false);
  // On an existing database too: refused before the listing.
  const refusedHere = keel(['runs', '--since', 'yesterday', '--db', database]);
  assert.equal(refusedHere.status, 2);
  assert.equal(refusedHere.stderr, 'keel: error [usage-invalid]: --since must be an ISO-8601 time with its zone, such as 2026-11-01T00:00:00.000Z, got "yesterday"\n');
});
