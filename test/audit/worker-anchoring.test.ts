/**
 * `keel worker` anchors on a schedule: runs that ended in a process without a signing key are
 * unanchored (a failure only under --strict) until a worker with the key anchors them. The test
 * waits for the worker's own report line, never for the clock.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-worker-anchoring-'));
after(() => rmSync(folder, { recursive: true, force: true }));

function environment(): NodeJS.ProcessEnv {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, KEEL_AUDIT_SIGNING_KEY_FILE: _key, KEEL_AUDIT_PUBLIC_KEY_FILE: _public, ...rest } = process.env;
  return { ...rest, NO_COLOR: '1', USER: 'tester' };
}

function keel(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [launcher, ...args], { cwd: folder, env: environment(), encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('runs ended without a key are unanchored until keel worker, holding the key, anchors them on its schedule', async () => {
  assert.equal(keel('audit', 'keygen', '--out', 'keys').code, 0);
  const publicKey = join('keys', 'audit-public-key.pem');
  const demo = keel('demo', '--db', 'keel.db');
  assert.equal(demo.code, 0, demo.stderr);

  const lenient = keel('audit', 'verify', '--db', 'keel.db', '--public-key', publicKey);
  assert.equal(lenient.code, 0, lenient.stderr);
  assert.match(lenient.stdout, /^audit log: 5 runs have events not yet anchored \(not a failure without --strict\)$/m);
  const strict = keel('audit', 'verify', '--db', 'keel.db', '--public-key', publicKey, '--strict');
  assert.equal(strict.code, 1);
  assert.equal(strict.stderr.match(/^keel: audit failed: run run_\S+ has events after its last anchor \(through event \d+\) and --strict was given$/gm)?.length, 5);

  writeFileSync(join(folder, 'keel.json'), JSON.stringify({ version: 1, routes: [], audit: { signingKeyFile: join('keys', 'audit-signing-key.pem'), anchorIntervalSeconds: 1 } }));
  const worker = spawn(process.execPath, [launcher, 'worker', '--db', 'keel.db', '--config', 'keel.json'], { cwd: folder, env: environment() });
  let stdout = '';
  const exited = new Promise<number | null>((resolve) => worker.once('close', resolve));
  await new Promise<void>((resolve, reject) => {
    worker.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (/^audit {3}anchored 5 run\(s\): tree size 5$/m.test(stdout)) resolve();
    });
    void exited.then(() => reject(new Error(`keel worker exited before anchoring:\n${stdout}`)));
  });
  worker.kill('SIGTERM');
  assert.equal(await exited, 0, stdout);

  const anchored = keel('audit', 'verify', '--db', 'keel.db', '--public-key', publicKey, '--strict');
  assert.equal(anchored.code, 0, anchored.stderr);
  assert.match(anchored.stdout, /^audit log: 5 leaves under 1 signed tree heads \(tree size 5\); every signature checked$/m);
  assert.doesNotMatch(anchored.stdout, /not yet anchored/);
});
