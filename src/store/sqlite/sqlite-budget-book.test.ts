import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { checkBookFromBeforeRunIds, runBudgetConformance } from '../conformance/index.ts';
import { SqliteStore } from './index.ts';
import { latestSqliteSchemaVersion, sqliteMigrations } from './migrations.ts';

// Two stores on one file: two connections, as two processes would hold.
runBudgetConformance('sqlite', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-sqlite-budget-'));
  const path = join(folder, 'keel.db');
  const first = SqliteStore.open({ path });
  const second = SqliteStore.open({ path });
  return {
    first: first.budgets,
    second: second.budgets,
    dispose: async () => {
      await Promise.all([first.close(), second.close()]);
      rmSync(folder, { recursive: true, force: true });
    },
  };
});

test('a database at schema version 12 opens at the latest and keeps its holds and settlements; reservations from then belong to no run', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-sqlite-budget-v12-'));
  const path = join(folder, 'keel.db');
  try {
    // The file as Keel left it at version 12: one reservation held, one settled, in one scope.
    const raw = new DatabaseSync(path);
    raw.exec(`CREATE TABLE keel_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT`);
    raw.exec(`INSERT INTO keel_meta (key, value) VALUES ('format', 'keel'), ('schema_version', '12')`);
    for (const migration of sqliteMigrations.filter((candidate) => candidate.version <= 12)) raw.exec(migration.sql);
    const expiresMs = Date.now() + 60 * 60 * 1000;
    raw.exec(`INSERT INTO budget_accounts (scope_key, spent_micros, spent_tokens, reserved_micros, reserved_tokens) VALUES ('tenant:acme', 120, 12, 500, 50)`);
    raw.prepare(`INSERT INTO budget_holds (reservation_id, scope_key, micros, tokens, expires_ms) VALUES ('held-before', 'tenant:acme', 500, 50, ?)`).run(expiresMs);
    raw.prepare(`INSERT INTO budget_settlements (reservation_id, micros, tokens, settled_ms) VALUES ('settled-before', 120, 12, ?)`).run(Date.now());
    raw.close();

    const store = SqliteStore.open({ path, create: false });
    try {
      await checkBookFromBeforeRunIds(store.budgets);
    } finally {
      await store.close();
    }
    const check = new DatabaseSync(path);
    assert.equal(check.prepare(`SELECT value FROM keel_meta WHERE key = 'schema_version'`).get()?.value, String(latestSqliteSchemaVersion));
    check.close();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
