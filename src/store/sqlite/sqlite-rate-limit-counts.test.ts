import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { SqliteStore } from './sqlite-store.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-rate-counts-'));
after(() => rmSync(folder, { recursive: true, force: true }));

test('hits an older Keel added without counting them are counted once they throw the count off, and the limit holds', async () => {
  const path = join(folder, 'keel.db');
  const store = SqliteStore.open({ path });
  const limiter = store.rateLimits;
  assert.ok(limiter !== undefined);
  const start = 1_800_000_000_000;
  const limit = { key: 'upgraded', limit: 2, windowMs: 1_000 };
  assert.deepEqual(await limiter.acquire([limit], { nowMs: start - 10 }), { allowed: true });
  // What a process still running the code from before migration 11 adds: rows, no count.
  const older = new DatabaseSync(path);
  for (const offset of [0, 1, 2]) older.prepare('INSERT INTO rate_limit_hits (limit_key, hit_ms, hit_id) VALUES (?, ?, ?)').run('upgraded', start + offset, `old-${offset}`);
  older.close();
  // All four leave the window: pruning them takes the count (one) below zero.
  assert.deepEqual(await limiter.acquire([limit], { nowMs: start + 1_500 }), { allowed: true });
  assert.deepEqual(await limiter.acquire([limit], { nowMs: start + 1_501 }), { allowed: true });
  assert.deepEqual(await limiter.acquire([limit], { nowMs: start + 1_502 }), { allowed: false, key: 'upgraded', retryAfterMs: 998 });
  await store.close();
});
