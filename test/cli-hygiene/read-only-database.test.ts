/**
 * A Keel database nobody may write to can still be read: `keel audit verify` and the other read
 * commands work on an archived copy on a read-only path, and on a copy whose file is read-only.
 *
 * Running as root, permissions stop no write, so a read-only path is made the way an operator
 * would mount an archive: a read-only bind mount, inside a mount namespace of the command's own
 * (`unshare -m`), so nothing outside the test sees it. The test checks first that the path really
 * refuses writes. Running as another user, the file is made 0444 in a 0555 folder, which does
 * refuse them. Either way the database file's bytes and modification time are compared after.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import type { KeelResult } from './keel-process.ts';
import { fileState, keel } from './keel-process.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-read-only-'));
const live = join(folder, 'live', 'keel.db');
after(() => {
  for (const path of [join(folder, 'archive'), join(folder, 'copy')]) if (existsSync(path)) chmodSync(path, 0o755);
  rmSync(folder, { recursive: true, force: true });
});

let runIds: string[] = [];
let waitingRunId = '';

before(async () => {
  mkdirSync(join(folder, 'live'));
  const demo = await keel(['demo', '--json', '--db', live], { cwd: folder });
  assert.equal(demo.code, 0, demo.stderr);
  const runs = (JSON.parse(demo.stdout) as { runs: { id: string; status: string }[] }).runs;
  runIds = runs.map((run) => run.id);
  waitingRunId = runs.find((run) => run.status === 'waiting')?.id ?? '';
  assert.ok(runIds.length > 0 && waitingRunId !== '');
  // The demo closed its database: the WAL was checkpointed into the file, and the file alone is the database.
  assert.deepEqual(readdirSync(join(folder, 'live')).filter((name) => name.startsWith('keel.db')), ['keel.db']);
});

const asRoot = process.getuid?.() === 0;
const canUnshare = asRoot && spawnSync('unshare', ['-m', 'true']).status === 0;

/** The read commands an auditor runs on an archive; each must succeed. */
async function readEverything(database: string, run: (args: string[]) => Promise<KeelResult>): Promise<void> {
  const verified = await run(['audit', 'verify', '--db', database]);
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, new RegExp(`^verified ${runIds.length} runs, \\d+ events: every hash chain is intact\\n(audit log: .*\\n)*$`));
  const listed = await run(['runs', '--json', '--db', database]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual((JSON.parse(listed.stdout) as { runs: { id: string }[] }).runs.map((entry) => entry.id).sort(), [...runIds].sort());
  const shown = await run(['show', runIds[0] ?? '', '--db', database]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /hash chain verified/);
  const escalations = await run(['escalations', '--json', '--db', database]);
  assert.equal(escalations.code, 0, escalations.stderr);
  assert.deepEqual((JSON.parse(escalations.stdout) as { escalations: { id: string }[] }).escalations.map((entry) => entry.id), [waitingRunId]);
  const replayed = await run(['replay', runIds[0] ?? '', '--db', database]);
  assert.equal(replayed.code, 0, replayed.stderr);
  assert.match(replayed.stdout, /model inputs match the journal byte for byte/);
}

test('keel audit verify, runs, show, escalations and replay read an archived copy on a read-only path, and change nothing', async () => {
  const archive = join(folder, 'archive');
  mkdirSync(archive);
  const database = join(archive, 'keel.db');
  copyFileSync(live, database);
  const before = fileState(database);
  if (canUnshare) {
    const mountPoint = join(folder, 'mounted');
    mkdirSync(mountPoint);
    const mounted = join(mountPoint, 'keel.db');
    // The same shell mounts, proves the mount refuses a write, then becomes keel.
    const script = 'source="$1"; target="$2"; shift 2; mount --bind "$source" "$target" && mount -o remount,bind,ro "$target" && ! touch "$target/probe" 2>/dev/null && exec "$@"';
    const wrap = ['unshare', '-m', 'sh', '-c', script, 'sh', archive, mountPoint];
    const probe = spawnSync(wrap[0] ?? '', [...wrap.slice(1), 'true']);
    assert.equal(probe.status, 0, `the read-only bind mount could not be made: ${probe.stderr.toString()}`);
    await readEverything(mounted, (args) => keel(args, { cwd: folder, wrap }));
  } else {
    chmodSync(database, 0o444);
    chmodSync(archive, 0o555);
    await readEverything(database, (args) => keel(args, { cwd: folder }));
    chmodSync(archive, 0o755);
  }
  assert.equal(fileState(database), before, 'the archived copy changed');
});

test('a copy in rollback-journal mode whose file is read-only (chmod 0444) is read without a byte or its modification time changing', async () => {
  const copy = join(folder, 'copy');
  mkdirSync(copy);
  const database = join(copy, 'keel.db');
  copyFileSync(live, database);
  // Archived the way a backup tool may leave it, out of WAL mode: opening it for writing would
  // switch it back (a change to its header), which running as root no permission would stop.
  const raw = new DatabaseSync(database);
  raw.exec('PRAGMA journal_mode = DELETE');
  raw.close();
  chmodSync(database, 0o444);
  const before = fileState(database);
  await readEverything(database, (args) => keel(args, { cwd: folder }));
  assert.equal(fileState(database), before, 'the copy, or its folder, changed');
});
