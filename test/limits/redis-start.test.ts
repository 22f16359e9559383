/**
 * A deployment told to use Redis that cannot reach it does not start: `keel worker` says why in
 * one line and exits non-zero, and createKeel rejects with `redis-unavailable` before opening a store.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createKeel } from 'keel';

const folder = mkdtempSync(join(tmpdir(), 'keel-redis-start-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const keelBin = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');

// Port 1 on the loopback refuses at once: nothing listens there.
const unreachable = 'redis://:secret@127.0.0.1:1';

function worker(redisUrl: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--conditions=keel-source', keelBin, 'worker'], { cwd: folder, timeout: 30_000, env: { ...process.env, KEEL_REDIS_URL: redisUrl } }, (error, _stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stderr });
    });
  });
}

test('keel worker with an unreachable KEEL_REDIS_URL exits non-zero with one line naming the server, not its password', async () => {
  const { code, stderr } = await worker(unreachable);
  assert.notEqual(code, 0);
  assert.equal(stderr, 'keel: error [redis-unavailable]: cannot connect in Redis at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1\n');
});

test('keel worker with a KEEL_REDIS_URL that is not a Redis URL names the setting', async () => {
  const { code, stderr } = await worker('http://127.0.0.1:6379');
  assert.notEqual(code, 0);
  assert.equal(stderr, 'keel: error [config-invalid]: KEEL_REDIS_URL must start with redis:// or rediss://, got http://\n');
});

test('createKeel rejects with redis-unavailable before opening a database', async () => {
  const database = join(folder, 'never', 'keel.db');
  await assert.rejects(createKeel({ database, environment: { KEEL_REDIS_URL: unreachable } }), { code: 'redis-unavailable' });
  assert.deepEqual(readdirSync(folder).filter((name) => name === 'never'), []);
});
