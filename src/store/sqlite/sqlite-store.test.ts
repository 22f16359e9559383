import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import type { OpeningTarget } from '../conformance/index.ts';
import { runOpeningConformance, runStoreConformance } from '../conformance/index.ts';
import { SqliteStore } from './index.ts';
import { latestSqliteSchemaVersion, sqliteMigrations } from './migrations.ts';

runStoreConformance('sqlite', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-sqlite-'));
  const path = join(folder, 'keel.db');
  let store = SqliteStore.open({ path });
  return {
    store,
    reopen: async () => {
      await store.close();
      store = SqliteStore.open({ path, create: false });
      return store;
    },
    dispose: async () => {
      await store.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
});

function scratch(): { folder: string; path: string } {
  const folder = mkdtempSync(join(tmpdir(), 'keel-sqlite-'));
  return { folder, path: join(folder, 'keel.db') };
}

/**
 * A database file, with `make` writing what it holds before the test. Running as root, file
 * permissions would not stop a write, so nothing here relies on them: the snapshot compares the
 * file's bytes and modification time, which any write through SQLite changes.
 */
function fileTarget(make: (path: string) => void = () => undefined): () => Promise<OpeningTarget> {
  return async () => {
    const { folder, path } = scratch();
    make(path);
    return {
      open: async ({ create, readOnly }) => SqliteStore.open({ path, create, readOnly, durability: 'normal' }),
      snapshot: async () => (existsSync(path) ? `${createHash('sha256').update(readFileSync(path)).digest('hex')} ${statSync(path).mtimeMs}` : 'missing'),
      setSchemaVersion: async (version) => {
        const raw = new DatabaseSync(path);
        // In rollback-journal mode, as a copy handed over from elsewhere may be: a switch to WAL would show in its header.
        raw.exec('PRAGMA journal_mode = DELETE');
        raw.prepare(`UPDATE keel_meta SET value = ? WHERE key = 'schema_version'`).run(String(version));
        raw.close();
      },
      dispose: async () => rmSync(folder, { recursive: true, force: true }),
    };
  };
}

function emptySqliteFile(path: string): void {
  // A valid SQLite file with no tables: a header page only, as an application that created its
  // database and set its user version before any table would leave it.
  const raw = new DatabaseSync(path);
  raw.exec('PRAGMA user_version = 7; VACUUM');
  raw.close();
}

function foreignSqliteFile(path: string, journalMode = 'DELETE'): void {
  const raw = new DatabaseSync(path);
  raw.exec(`PRAGMA journal_mode = ${journalMode}; CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER); INSERT INTO invoices VALUES (1, 500)`);
  raw.close();
}

runOpeningConformance('sqlite', {
  missing: fileTarget(),
  empty: {
    'a 0-byte file': fileTarget((path) => writeFileSync(path, '')),
    'an empty SQLite file': fileTarget(emptySqliteFile),
  },
  foreign: {
    "a SQLite file with another application's table": fileTarget((path) => foreignSqliteFile(path)),
    "a SQLite file in WAL mode with another application's table": fileTarget((path) => foreignSqliteFile(path, 'WAL')),
  },
  latestVersion: latestSqliteSchemaVersion,
});

test('refusing a file creates nothing beside it: no -wal, -shm or -journal file', () => {
  const cases: [string, (path: string) => void, 'db-missing' | 'db-foreign'][] = [
    ['a 0-byte file', (path) => writeFileSync(path, ''), 'db-missing'],
    ['an empty SQLite file', emptySqliteFile, 'db-missing'],
    ['a foreign database in WAL mode', (path) => foreignSqliteFile(path, 'WAL'), 'db-foreign'],
  ];
  for (const [name, make, code] of cases) {
    const { folder, path } = scratch();
    make(path);
    const before = readdirSync(folder).sort();
    assert.throws(() => SqliteStore.open({ path, readOnly: true }), { code }, name);
    assert.throws(() => SqliteStore.open({ path, create: false }), { code }, name);
    assert.deepEqual(readdirSync(folder).sort(), before, name);
    rmSync(folder, { recursive: true });
  }
});

test('a reader sees what a live writer committed to the WAL and not yet to the file', async () => {
  const { folder, path } = scratch();
  const writer = SqliteStore.open({ path, durability: 'normal' });
  const first = { runId: 'live', seq: 1, time: new Date().toISOString(), type: 'run-start', schemaVersion: 1, prevHash: '0'.repeat(64), hash: 'h', data: {} };
  await writer.createRun({ run: { id: 'live', task: 't', taskVersion: '1', principal: 'p', tenant: 't', status: 'queued' }, first });
  assert.ok(statSync(`${path}-wal`).size > 0, 'the commit is in the WAL');
  const reader = SqliteStore.open({ path, readOnly: true });
  assert.equal((await reader.getRun('live'))?.lastSeq, 1);
  await reader.close();
  await writer.close();
  rmSync(folder, { recursive: true });
});

test('a missing database is db-missing when creation is off, and nothing is created', () => {
  const { folder, path } = scratch();
  assert.throws(() => SqliteStore.open({ path, create: false }), { code: 'db-missing' });
  assert.throws(() => readFileSync(path));
  rmSync(folder, { recursive: true });
});

test('a file that is not SQLite is db-unreadable and left byte-identical', () => {
  const { folder, path } = scratch();
  writeFileSync(path, 'these are my notes, not a database\n'.repeat(200));
  const before = readFileSync(path);
  assert.throws(() => SqliteStore.open({ path }), { code: 'db-unreadable' });
  assert.deepEqual(readFileSync(path), before);
  rmSync(folder, { recursive: true });
});

test('a foreign SQLite database is db-foreign and left byte-identical', () => {
  const { folder, path } = scratch();
  const foreign = new DatabaseSync(path);
  foreign.exec(`CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER); INSERT INTO invoices VALUES (1, 500)`);
  foreign.close();
  const before = readFileSync(path);
  assert.throws(() => SqliteStore.open({ path }), { code: 'db-foreign' });
  assert.deepEqual(readFileSync(path), before);
  rmSync(folder, { recursive: true });
});

test('a database from a newer Keel is db-too-new', () => {
  const { folder, path } = scratch();
  SqliteStore.open({ path }).close().catch(() => undefined);
  const raw = new DatabaseSync(path);
  raw.exec(`UPDATE keel_meta SET value = '999' WHERE key = 'schema_version'`);
  raw.close();
  assert.throws(() => SqliteStore.open({ path }), { code: 'db-too-new' });
  rmSync(folder, { recursive: true });
});

test('group commit folds concurrent writes into few transactions', async () => {
  const { folder, path } = scratch();
  const store = SqliteStore.open({ path, durability: 'normal' });
  const first = (id: string) => ({ runId: id, seq: 1, time: new Date().toISOString(), type: 'run-start', schemaVersion: 1, prevHash: '0'.repeat(64), hash: 'h', data: {} });
  await Promise.all(
    Array.from({ length: 100 }, (_, index) =>
      store.createRun({ run: { id: `r${index}`, task: 't', taskVersion: '1', principal: 'p', tenant: 't', status: 'queued' }, first: first(`r${index}`) }),
    ),
  );
  assert.equal(store.stats.writes, 100);
  assert.ok(store.stats.transactions <= 2, `expected at most 2 transactions, saw ${store.stats.transactions}`);
  await store.close();
  rmSync(folder, { recursive: true });
});

test('a database migrated to schema version 1 upgrades in place to the latest and keeps its runs', async () => {
  const { folder, path } = scratch();
  const v1 = sqliteMigrations.find((migration) => migration.version === 1);
  assert.ok(v1);
  const raw = new DatabaseSync(path);
  raw.exec(`CREATE TABLE keel_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT`);
  raw.exec(`INSERT INTO keel_meta (key, value) VALUES ('format', 'keel'), ('schema_version', '1')`);
  raw.exec(v1.sql);
  raw.exec(`INSERT INTO runs (id, task, task_version, principal, tenant, status, created_at, updated_at, last_seq, last_hash)
            VALUES ('old-run', 't', '1', 'user:ada', 'acme', 'ok', '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z', 1, 'h')`);
  raw.close();
  const store = SqliteStore.open({ path, create: false });
  assert.equal((await store.getRun('old-run'))?.status, 'ok');
  const scope = { kind: 'session', tenant: 'acme', sessionId: 's1' } as const;
  const entry = await store.appendMemory({ scope, role: 'user', text: 'hi', labels: {}, createdAt: new Date().toISOString(), source: { runId: null, step: null }, contentHash: 'x' });
  assert.equal(entry.seq, 1);
  await store.close();
  const check = new DatabaseSync(path);
  assert.equal(check.prepare(`SELECT value FROM keel_meta WHERE key = 'schema_version'`).get()?.value, String(latestSqliteSchemaVersion));
  check.close();
  assert.equal(latestSqliteSchemaVersion, 16);
  rmSync(folder, { recursive: true });
});
