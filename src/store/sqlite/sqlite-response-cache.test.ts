import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { runResponseCacheConformance } from '../conformance/index.ts';
import { SqliteStore } from './index.ts';
import { latestSqliteSchemaVersion, sqliteMigrations } from './migrations.ts';

// Two stores on one file: two connections, as two gateway processes would hold.
runResponseCacheConformance('sqlite', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-sqlite-response-cache-'));
  const path = join(folder, 'keel.db');
  const first = SqliteStore.open({ path });
  const second = SqliteStore.open({ path });
  return {
    first: first.responseCache,
    second: second.responseCache,
    dispose: async () => {
      await Promise.all([first.close(), second.close()]);
      rmSync(folder, { recursive: true, force: true });
    },
  };
});

test('a cache write in durability full is answered on its commit, with no fdatasync; a key write still waits for one', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-sqlite-response-cache-sync-'));
  const path = join(folder, 'keel.db');
  const store = SqliteStore.open({ path, durability: 'full' });
  try {
    const before = store.syncs;
    const storedMs = Date.now();
    await store.responseCache.writeCachedResponse('a'.repeat(64), { text: '{}', runId: 'run_1', storedMs, expiresMs: storedMs + 60_000 });
    assert.equal(store.syncs, before, 'the cache write waited for no sync');
    const other = SqliteStore.open({ path });
    try {
      assert.equal((await other.responseCache.readCachedResponse('a'.repeat(64), storedMs))?.runId, 'run_1', 'and is committed: another connection reads it');
    } finally {
      await other.close();
    }
    // The same store's durable writes still sync, so the count above can move.
    await store.keys.createKey({ keyId: 'key_1', secretHash: 'b'.repeat(64), tenant: 't', principal: 'p', settings: { models: [] }, createdAt: new Date().toISOString() });
    assert.equal(store.syncs, before + 1);
  } finally {
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a database at schema version 13 opens at the latest with an empty response cache, and keeps its data', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-sqlite-response-cache-v13-'));
  const path = join(folder, 'keel.db');
  try {
    // The file as Keel left it at version 13, with a key and a budget account in it.
    const raw = new DatabaseSync(path);
    raw.exec(`CREATE TABLE keel_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT`);
    raw.exec(`INSERT INTO keel_meta (key, value) VALUES ('format', 'keel'), ('schema_version', '13')`);
    for (const migration of sqliteMigrations.filter((candidate) => candidate.version <= 13)) raw.exec(migration.sql);
    raw.exec(`INSERT INTO api_keys (key_id, secret_hash, tenant, principal, settings, created_at) VALUES ('key_old', '${'c'.repeat(64)}', 'acme', 'svc', '{"models":[]}', '2030-01-01T00:00:00.000Z')`);
    raw.exec(`INSERT INTO budget_accounts (scope_key, spent_micros, spent_tokens) VALUES ('tenant:acme', 120, 12)`);
    raw.close();

    const store = SqliteStore.open({ path, create: false });
    try {
      assert.equal((await store.keys.findKeyBySecretHash('c'.repeat(64)))?.keyId, 'key_old');
      assert.deepEqual((await store.budgets.readBudget('tenant:acme')).spent, { micros: 120, tokens: 12 });
      const key = 'd'.repeat(64);
      assert.equal(await store.responseCache.readCachedResponse(key, 1), undefined);
      const entry = { text: '{"answer":1}', runId: 'run_new', storedMs: Date.UTC(2030, 0, 1), expiresMs: Date.UTC(2030, 0, 1) + 60_000 };
      await store.responseCache.writeCachedResponse(key, entry);
      assert.deepEqual(await store.responseCache.readCachedResponse(key, entry.storedMs), entry);
    } finally {
      await store.close();
    }
    const check = new DatabaseSync(path);
    assert.equal(check.prepare(`SELECT value FROM keel_meta WHERE key = 'schema_version'`).get()?.value, String(latestSqliteSchemaVersion));
    assert.equal(check.prepare(`SELECT count(*) AS indexes FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'response_cache' AND sql LIKE '%expires_ms%'`).get()?.indexes, 1);
    check.close();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
