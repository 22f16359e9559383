import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { genesisHash, sealEvent, toRecord } from '../../journal/index.ts';
import { SqliteStore } from './index.ts';
import { latestSqliteSchemaVersion, sqliteMigrations } from './migrations.ts';

test('a database at schema version 14 opens at the latest with the run_tags table: its runs have no tags and group as null, new runs keep theirs', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-sqlite-run-tags-v14-'));
  const path = join(folder, 'keel.db');
  try {
    // The file as Keel left it at version 14, with an ended run in it.
    const raw = new DatabaseSync(path);
    raw.exec(`CREATE TABLE keel_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT`);
    raw.exec(`INSERT INTO keel_meta (key, value) VALUES ('format', 'keel'), ('schema_version', '14')`);
    for (const migration of sqliteMigrations.filter((candidate) => candidate.version <= 14)) raw.exec(migration.sql);
    raw.exec(`INSERT INTO runs (id, task, task_version, principal, tenant, status, created_at, updated_at, last_seq, last_hash, cost_micros)
              VALUES ('old-run', 't', '1', 'user:ada', 'acme', 'ok', '2030-01-02T00:00:00.000Z', '2030-01-02T00:00:00.000Z', 1, 'h', 700)`);
    raw.close();

    const store = SqliteStore.open({ path, create: false });
    try {
      const old = await store.getRun('old-run');
      assert.equal(old?.status, 'ok');
      assert.equal(old?.tags, undefined);
      const runId = 'new-run';
      const tags = { project: 'search' };
      const first = sealEvent({ runId, seq: 1, prevHash: genesisHash }, 'run-start', { task: 't', taskVersion: '1', input: null, principal: 'user:ada', tenant: 'acme', configHash: 'c', config: null, tags }, new Date('2030-01-03T00:00:00.000Z'));
      await store.createRun({ run: { id: runId, task: 't', taskVersion: '1', principal: 'user:ada', tenant: 'acme', status: 'running', tags }, first: toRecord(first) });
      assert.deepEqual((await store.getRun(runId))?.tags, tags);
      const period = { since: '2030-01-01T00:00:00.000Z', until: '2030-02-01T00:00:00.000Z' };
      assert.deepEqual(await store.summarizeSpend({ ...period, by: 'tag', tag: 'project' }), [
        { group: null, runs: 1, costMicros: 700, inputTokens: 0, outputTokens: 0 },
        { group: 'search', runs: 1, costMicros: 0, inputTokens: 0, outputTokens: 0 },
      ]);
    } finally {
      await store.close();
    }
    const check = new DatabaseSync(path);
    assert.equal(check.prepare(`SELECT value FROM keel_meta WHERE key = 'schema_version'`).get()?.value, String(latestSqliteSchemaVersion));
    assert.equal(latestSqliteSchemaVersion, 16);
    assert.equal(check.prepare(`SELECT count(*) AS indexes FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'run_tags' AND sql LIKE '%(name, value, created_at, run_key)%'`).get()?.indexes, 1);
    check.close();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test("a database at schema version 15 opens at the latest: its runs keep their tags, each with its run's creation time, and are listed by tag", async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-sqlite-run-tags-v15-'));
  const path = join(folder, 'keel.db');
  try {
    // The file as Keel left it at version 15: two tagged runs, and an untagged one between them.
    const raw = new DatabaseSync(path);
    raw.exec(`CREATE TABLE keel_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT`);
    raw.exec(`INSERT INTO keel_meta (key, value) VALUES ('format', 'keel'), ('schema_version', '15')`);
    for (const migration of sqliteMigrations.filter((candidate) => candidate.version <= 15)) raw.exec(migration.sql);
    const insertRun = raw.prepare(`INSERT INTO runs (id, task, task_version, principal, tenant, status, created_at, updated_at, last_seq, last_hash)
                                   VALUES (?, 't', '1', 'user:ada', 'acme', 'ok', ?, ?, 1, 'h')`);
    const older = insertRun.run('older', '2030-01-02T00:00:00.000Z', '2030-01-02T00:00:00.000Z').lastInsertRowid;
    insertRun.run('untagged', '2030-01-03T00:00:00.000Z', '2030-01-03T00:00:00.000Z');
    const newer = insertRun.run('newer', '2030-01-04T00:00:00.000Z', '2030-01-04T00:00:00.000Z').lastInsertRowid;
    const insertTag = raw.prepare(`INSERT INTO run_tags (run_key, name, value) VALUES (?, ?, ?)`);
    insertTag.run(older, 'project', 'search');
    insertTag.run(older, 'team', 'core');
    insertTag.run(newer, 'project', 'search');
    raw.close();

    const store = SqliteStore.open({ path, create: false });
    try {
      assert.deepEqual((await store.getRun('older'))?.tags, { project: 'search', team: 'core' });
      assert.deepEqual((await store.listRuns({ tags: { project: 'search' } })).map((run) => run.id), ['newer', 'older']);
      assert.deepEqual((await store.listRuns({ tags: { project: 'search', team: 'core' } })).map((run) => run.id), ['older']);
      assert.deepEqual((await store.listRuns({ tags: { project: 'search' }, after: { createdAt: '2030-01-03T00:00:00.000Z', id: 'untagged' } })).map((run) => run.id), ['older']);
    } finally {
      await store.close();
    }
    const check = new DatabaseSync(path);
    assert.equal(check.prepare(`SELECT value FROM keel_meta WHERE key = 'schema_version'`).get()?.value, String(latestSqliteSchemaVersion));
    assert.deepEqual(
      check.prepare(`SELECT runs.id, run_tags.name, run_tags.created_at FROM run_tags JOIN runs ON runs.key = run_tags.run_key ORDER BY runs.id, run_tags.name`).all().map((row) => ({ ...row })),
      [
        { id: 'newer', name: 'project', created_at: '2030-01-04T00:00:00.000Z' },
        { id: 'older', name: 'project', created_at: '2030-01-02T00:00:00.000Z' },
        { id: 'older', name: 'team', created_at: '2030-01-02T00:00:00.000Z' },
      ],
    );
    check.close();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
