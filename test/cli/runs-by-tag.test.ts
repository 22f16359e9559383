/**
 * End to end: the demo's five support requests run through the public createKeel API with tags,
 * on a SQLite file, then the real `keel` (bin/keel.js, on this Node) lists them by tag
 * (`keel runs --tag`) and shows a run's tags (`keel show`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { demoRequests, PaymentsLedger, supportRefundAgent, supportRefundTask } from '../../examples/support-refund/index.ts';
import { createKeel } from '../../src/agent/index.ts';
import { SqliteStore } from '../../src/store/index.ts';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-runs-by-tag-'));
const database = join(folder, 'keel.db');
after(() => rmSync(folder, { recursive: true, force: true }));

// No provider keys and no KEEL_ settings reach the children.
const environment = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(OPENAI_|ANTHROPIC_|KEEL_)/.test(name))), NO_COLOR: '1' };

function keel(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [launcher, ...args], { encoding: 'utf8', env: environment, cwd: folder });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface ListedRun {
  id: string;
  status: string;
  tags?: Record<string, string>;
}

function listed(args: string[]): ListedRun[] {
  const result = keel(['runs', '--json', '--db', database, ...args]);
  assert.equal(result.status, 0, result.stderr);
  return (JSON.parse(result.stdout) as { runs: ListedRun[] }).runs;
}

// The demo's requests end ok, ok, waiting, degraded and failed, in this order.
const tagsOf: (Record<string, string> | undefined)[] = [{ project: 'search', team: 'core' }, { project: 'search' }, { project: 'ads', team: 'core' }, undefined, { project: 'search', team: 'core' }];
const runIds: string[] = [];

before(async () => {
  const store = SqliteStore.open({ path: database });
  const payments = new PaymentsLedger(join(folder, 'payments.db'));
  const demo = await createKeel({ store, agents: [supportRefundAgent({ payments })] });
  try {
    for (const [index, request] of demoRequests.entries()) {
      const tags = tagsOf[index];
      const outcome = await demo.run(supportRefundTask, { message: request.message }, { principal: request.customer, tenant: 'acme-shop', ...(tags === undefined ? {} : { tags }) });
      runIds.push(outcome.runId);
    }
  } finally {
    await demo.close();
    payments.close();
    await store.close();
  }
});

test('keel runs --tag lists only the runs carrying every tag given, newest first, with --status and --limit', () => {
  const every = listed([]);
  assert.deepEqual(new Set(every.map((run) => run.id)), new Set(runIds));
  assert.deepEqual(
    runIds.map((id) => every.find((run) => run.id === id)?.status),
    ['ok', 'ok', 'waiting', 'degraded', 'failed'],
  );
  const carrying = (tags: Record<string, string>) => every.filter((run) => Object.entries(tags).every(([name, value]) => run.tags?.[name] === value)).map((run) => run.id);

  const search = listed(['--tag', 'project=search']);
  assert.deepEqual(search.map((run) => run.id), carrying({ project: 'search' }));
  assert.deepEqual(new Set(search.map((run) => run.id)), new Set([runIds[0], runIds[1], runIds[4]]));
  const searchCore = listed(['--tag', 'project=search', '--tag', 'team=core']);
  assert.deepEqual(searchCore.map((run) => run.id), carrying({ project: 'search', team: 'core' }));
  assert.deepEqual(new Set(searchCore.map((run) => run.id)), new Set([runIds[0], runIds[4]]));
  // "The failed runs of project=search".
  assert.deepEqual(listed(['--tag', 'project=search', '--status', 'failed']).map((run) => run.id), [runIds[4]]);
  assert.deepEqual(listed(['--tag', 'project=search', '--status', 'waiting']), []);
  assert.deepEqual(listed(['--tag', 'project=search', '--limit', '2']).map((run) => run.id), search.slice(0, 2).map((run) => run.id));
  assert.deepEqual(listed(['--tag', 'project=nobody']), []);

  const table = keel(['runs', '--tag', 'project=ads', '--db', database]);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /RUN\s+TASK\s+STATUS/);
  assert.deepEqual(
    runIds.filter((id) => table.stdout.includes(id)),
    [runIds[2]],
  );
  const none = keel(['runs', '--tag', 'project=nobody', '--status', 'failed', '--db', database]);
  assert.equal(none.status, 0, none.stderr);
  assert.equal(none.stdout, `No runs with status failed, tag project=nobody in ${database}.\n`);
});

test('a malformed --tag is one line, exit 2, before any database is opened', () => {
  const missing = join(folder, 'missing.db');
  const refused: [string[], string][] = [
    [['--tag', 'project'], '--tag must be NAME=VALUE, such as project=search; got "project"'],
    [['--tag', 'bad name=x'], `--tag "bad name=x": tag name "bad name" must be 1 to 64 letters, digits, '_', '.' or '-'`],
    [['--tag', 'project='], '--tag "project=": tag project is empty'],
    [['--tag', 'project=search', '--tag', 'project=ads'], '--tag names tag project twice; a run has one value per tag'],
  ];
  for (const [args, message] of refused) {
    const result = keel(['runs', ...args, '--db', missing]);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr, `keel: error [usage-invalid]: ${message}\n`);
    assert.equal(result.stdout, '');
  }
  assert.equal(existsSync(missing), false);
  const elsewhere = keel(['spend', '--tag', 'project=search', '--db', database]);
  assert.equal(elsewhere.status, 2, elsewhere.stderr);
  assert.match(elsewhere.stderr, /keel spend does not take --tag/);
});

test("keel show prints a run's tags, and no tags line for a run without any", () => {
  const tagged = keel(['show', runIds[0] ?? '', '--db', database]);
  assert.equal(tagged.status, 0, tagged.stderr);
  assert.match(tagged.stdout, /\ntags: project=search, team=core\n/);
  const untagged = keel(['show', runIds[3] ?? '', '--db', database]);
  assert.equal(untagged.status, 0, untagged.stderr);
  assert.doesNotMatch(untagged.stdout, /^tags:/m);
  const json = keel(['show', runIds[2] ?? '', '--json', '--db', database]);
  assert.equal(json.status, 0, json.stderr);
  assert.deepEqual((JSON.parse(json.stdout) as { run: { tags?: Record<string, string> } }).run.tags, { project: 'ads', team: 'core' });
});
