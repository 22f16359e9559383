import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { SQLInputValue, StatementResultingChanges, StatementSync } from 'node:sqlite';
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

test('reserves and settles delete what is past retention at most once a minute, not with every call; a hold expired over a day is still deleted', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-sqlite-budget-prune-'));
  const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
  // Counts the runs of the two pruning statements, by wrapping the statements this store prepares.
  const runs = { holds: 0, settlements: 0 };
  // eslint-disable-next-line @typescript-eslint/unbound-method -- put back as it was, and only ever called with .call(database)
  const originalPrepare = DatabaseSync.prototype.prepare;
  DatabaseSync.prototype.prepare = function prepare(this: DatabaseSync, sql: string) {
    const statement = originalPrepare.call(this, sql);
    const counter = sql.startsWith('DELETE FROM budget_holds WHERE scope_key') ? 'holds' : sql.startsWith('DELETE FROM budget_settlements') ? 'settlements' : undefined;
    if (counter === undefined) return statement;
    // The pruning statements bind positional values only.
    const run = statement.run.bind(statement) as (...values: SQLInputValue[]) => StatementResultingChanges;
    statement.run = ((...values: SQLInputValue[]) => {
      runs[counter] += 1;
      return run(...values);
    }) as StatementSync['run'];
    return statement;
  };
  try {
    const limits = [{ key: 'tenant:acme', micros: 1_000_000, tokens: null }, { key: 'key:k1', micros: 1_000_000, tokens: null }];
    const start = Date.now();
    // A hold left to expire, two days ago.
    await store.budgets.reserveBudget({ reservationId: 'stale', limits, amount: { micros: 10, tokens: 1 }, expiresInMs: 1, nowMs: start - 2 * 86_400_000 });
    for (let index = 0; index < 20; index += 1) {
      await store.budgets.reserveBudget({ reservationId: `call-${index}`, limits, amount: { micros: 10, tokens: 1 }, expiresInMs: 60_000, nowMs: start + index });
      await store.budgets.settleBudget({ reservationId: `call-${index}`, actual: { micros: 5, tokens: 1 } });
    }
    // Once per scope when the first hold was reserved, once more at the first reserve two days on; one settlement prune.
    assert.deepEqual(runs, { holds: 4, settlements: 1 });
    assert.equal(await store.budgets.readReservation('stale'), undefined, 'the hold expired over a day ago is deleted');
    await store.budgets.reserveBudget({ reservationId: 'later', limits, amount: { micros: 10, tokens: 1 }, expiresInMs: 60_000, nowMs: start + 61_000 });
    assert.equal(runs.holds, 6, 'a minute on, each scope is pruned again');
  } finally {
    DatabaseSync.prototype.prepare = originalPrepare;
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  }
});
