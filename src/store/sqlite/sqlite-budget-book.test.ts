import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { runBudgetConformance } from '../conformance/index.ts';
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
      const book = store.budgets;
      assert.deepEqual(await book.readReservation('held-before'), { state: 'held', amount: { micros: 500, tokens: 50 } });
      assert.deepEqual(await book.readReservation('settled-before'), { state: 'settled', actual: { micros: 120, tokens: 12 } });
      assert.deepEqual(await book.readBudget('tenant:acme'), { spent: { micros: 120, tokens: 12 }, reserved: { micros: 500, tokens: 50 } });
      // A new reservation names its run; the old hold still settles, and belongs to no run's listing.
      assert.deepEqual(await book.reserveBudget({ reservationId: 'held-now', limits: [{ key: 'tenant:acme', micros: null, tokens: null }], amount: { micros: 70, tokens: 7 }, expiresInMs: 60_000, runId: 'run-now' }), { ok: true });
      assert.deepEqual(await book.readRunReservations('run-now'), [{ reservationId: 'held-now', state: 'held', amount: { micros: 70, tokens: 7 } }]);
      await book.settleBudget({ reservationId: 'held-before', actual: { micros: 300, tokens: 30 } });
      assert.deepEqual(await book.readReservation('held-before'), { state: 'settled', actual: { micros: 300, tokens: 30 } });
      assert.deepEqual(await book.readBudget('tenant:acme'), { spent: { micros: 420, tokens: 42 }, reserved: { micros: 70, tokens: 7 } });
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
