/**
 * Retention on a real SQLite file with signed tree heads: ended runs older than `retention.runs`
 * are deleted by `keel retention apply` and by `keel worker`'s schedule, each after a signed
 * retention record is journaled; `keel audit verify` and the evidence bundle's verifier pass
 * afterwards, a dry run writes nothing, and a run deleted without a record is still caught.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { createKeel } from '../../src/agent/index.ts';
import { runCli } from '../../src/cli/index.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { supportAgent } from './redaction-fixture.ts';

const root = join(import.meta.dirname, '..', '..');
const launcher = join(root, 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-retention-'));
const database = join(folder, 'keel.db');
const config = join(folder, 'keel.json');
const publicKey = join(folder, 'keys', 'audit-public-key.pem');
after(() => rmSync(folder, { recursive: true, force: true }));

function environment(): NodeJS.ProcessEnv {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, KEEL_AUDIT_SIGNING_KEY_FILE: _key, KEEL_AUDIT_PUBLIC_KEY_FILE: _public, ...rest } = process.env;
  return { ...rest, NO_COLOR: '1', USER: 'operator' };
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli([...args, '--db', database], { output: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) }, environment: environment(), colour: false });
  return { code, stdout, stderr };
}

/** Makes runs look as if they ended long ago (the run index's time; the journal is untouched). */
function age(runIds: string[]): void {
  const raw = new DatabaseSync(database);
  try {
    for (const runId of runIds) raw.prepare(`UPDATE runs SET updated_at = '2025-01-01T00:00:00.000Z' WHERE id = ?`).run(runId);
  } finally {
    raw.close();
  }
}

const digest = (): string =>
  [database, `${database}-wal`]
    // An empty -wal file (a reader's open may leave one) holds nothing.
    .filter((file) => existsSync(file) && readFileSync(file).length > 0)
    .map((file) => createHash('sha256').update(readFileSync(file)).digest('hex'))
    .join();

test('retention deletes old ended runs after a signed record, verify still passes, and a run deleted without a record is caught', async () => {
  assert.equal((await cli(['audit', 'keygen', '--out', join(folder, 'keys')])).code, 0);
  writeFileSync(config, JSON.stringify({ version: 1, routes: [], audit: { signingKeyFile: join(folder, 'keys', 'audit-signing-key.pem') }, retention: { runs: '180d', checkIntervalSeconds: 3600 } }));
  const store = SqliteStore.open({ path: database });
  const keel = await createKeel({ store, environment: environment(), config, agents: [supportAgent('support', 'cust-42')] });
  const runs: string[] = [];
  for (let index = 0; index < 4; index += 1) {
    const outcome = await keel.run('support', { message: 'Where is ORD-1 going?' }, { principal: 'user:eve', tenant: 'acme' });
    assert.equal(outcome.status, 'ok', outcome.reason);
    runs.push(outcome.runId);
  }
  await keel.close();
  await store.close();
  const [first = '', second = '', third = '', fourth = ''] = runs;
  age([first, second]);

  const bad = JSON.stringify({ version: 1, routes: [], retention: { runs: '6 months' } });
  writeFileSync(join(folder, 'bad.json'), bad);
  const refused = await cli(['retention', 'apply', '--config', join(folder, 'bad.json')]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /^keel: error \[config-invalid\]: \S+bad\.json: retention\.runs: must be a number of days such as "180d", got '6 months'\n$/);

  const before = digest();
  const dry = await cli(['retention', 'apply', '--config', config, '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^retention 180d: 2 ended run\(s\) last written before \S+ would be deleted \(dry run: nothing written\)/);
  assert.equal(digest(), before, 'a dry run writes nothing');

  const applied = await cli(['retention', 'apply', '--config', config, '--json']);
  assert.equal(applied.code, 0, applied.stderr);
  const outcome = JSON.parse(applied.stdout) as { due: number; deleted: number; retentionRuns: string[] };
  assert.deepEqual([outcome.due, outcome.deleted, outcome.retentionRuns.length], [2, 2, 1]);
  const record = JSON.parse((await cli(['show', outcome.retentionRuns[0] ?? '', '--json'])).stdout) as { run: { task: string; principal: string }; events: { type: string; data: { name?: string; input?: { runs: { runId: string }[]; signature: string | null; by: string } } }[] };
  assert.equal(record.run.task, 'run-retention');
  const input = record.events.find((event) => event.type === 'step-start' && event.data.name === 'retention-apply')?.data.input;
  assert.deepEqual(input?.runs.map((run) => run.runId).sort(), [first, second].sort());
  assert.equal(input?.by, 'user:operator');
  assert.match(input?.signature ?? '', /^[A-Za-z0-9+/]{86}==$/, 'the record is signed');
  assert.equal((await cli(['show', first])).code, 1, 'the deleted run is gone');
  assert.equal((await cli(['show', third])).code, 0, 'a recent run is kept');

  const verified = await cli(['audit', 'verify', '--public-key', publicKey, '--strict']);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  const bundle = join(folder, 'bundle');
  assert.equal((await cli(['evidence', 'export', '--from', '2020-01-01', '--to', '2100-01-01', '--out', bundle, '--public-key', publicKey])).code, 0);
  const offline = await cli(['evidence', 'verify', bundle, '--public-key', publicKey]);
  assert.equal(offline.code, 0, offline.stdout + offline.stderr);

  // The worker applies the same policy on its schedule, once at start.
  age([third]);
  const worker = spawn(process.execPath, [launcher, 'worker', '--db', database, '--config', config], { cwd: folder, env: environment() });
  let workerOutput = '';
  await new Promise<void>((resolve, reject) => {
    worker.stdout.on('data', (chunk: Buffer) => {
      workerOutput += chunk.toString();
      if (/retention 180d: deleted 1 of 1/.test(workerOutput)) resolve();
    });
    worker.stderr.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
    worker.on('exit', () => reject(new Error(`keel worker exited: ${workerOutput}`)));
  });
  const exited = new Promise((resolve) => worker.on('exit', resolve));
  worker.kill('SIGTERM');
  await exited;
  assert.equal((await cli(['show', third])).code, 1);
  assert.equal((await cli(['audit', 'verify', '--public-key', publicKey, '--strict'])).code, 0);

  // A run deleted by hand, with no retention record, is still caught.
  const raw = new DatabaseSync(database);
  raw.prepare('DELETE FROM journal WHERE run_key = (SELECT key FROM runs WHERE id = ?)').run(fourth);
  raw.prepare('DELETE FROM runs WHERE id = ?').run(fourth);
  raw.close();
  const caught = await cli(['audit', 'verify', '--public-key', publicKey]);
  assert.equal(caught.code, 1);
  assert.match(caught.stdout + caught.stderr, new RegExp(`run ${fourth} was deleted after it was anchored`));
});
