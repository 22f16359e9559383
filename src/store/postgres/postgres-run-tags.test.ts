import assert from 'node:assert/strict';
import { test } from 'node:test';
import { genesisHash, sealEvent, toRecord } from '../../journal/index.ts';
import { PostgresStore } from './index.ts';
import { latestPostgresSchemaVersion, postgresMigrations } from './migrations.ts';
import { countIndexes, dropSchema, openTestPostgres, uniqueSchemaName, withClient } from './test-database.ts';

const database = await openTestPostgres();
const url = 'url' in database ? database.url : '';

test('a schema at version 14 opens at the latest with the run_tags table: its runs have no tags and group as null, new runs keep theirs', { skip: 'skipReason' in database ? database.skipReason : false }, async () => {
  const schema = uniqueSchemaName('keel_run_tags_v14');
  const quoted = `"${schema}"`;
  try {
    // The schema as Keel left it at version 14, with an ended run in it.
    await withClient(url, async (client) => {
      await client.query(`CREATE SCHEMA ${quoted}`);
      await client.query(`CREATE TABLE ${quoted}.keel_meta (key text PRIMARY KEY, value text NOT NULL)`);
      for (const migration of postgresMigrations.filter((candidate) => candidate.version <= 14)) await client.query(migration.sql(quoted));
      await client.query(`INSERT INTO ${quoted}.keel_meta (key, value) VALUES ('schema_version', '14')`);
      await client.query(
        `INSERT INTO ${quoted}.runs (id, task, task_version, principal, tenant, status, created_at, updated_at, last_seq, last_hash, cost_micros)
         VALUES ('old-run', 't', '1', 'user:ada', 'acme', 'ok', '2030-01-02T00:00:00.000Z', '2030-01-02T00:00:00.000Z', 1, 'h', 700)`,
      );
    });
    const store = await PostgresStore.open({ url, schema, create: false });
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
    const found = await withClient(url, async (client) => ({
      version: (await client.query<{ value: string }>(`SELECT value FROM ${quoted}.keel_meta WHERE key = 'schema_version'`)).rows[0]?.value,
      indexes: await countIndexes(client, schema, 'run_tags', '(name, value, created_at, run_id)'),
    }));
    assert.deepEqual(found, { version: String(latestPostgresSchemaVersion), indexes: 1 });
    assert.equal(latestPostgresSchemaVersion, 17);
  } finally {
    await dropSchema(url, schema);
  }
});

test("a schema at version 15 opens at the latest: its runs keep their tags, each with its run's creation time, and are listed by tag", { skip: 'skipReason' in database ? database.skipReason : false }, async () => {
  const schema = uniqueSchemaName('keel_run_tags_v15');
  const quoted = `"${schema}"`;
  try {
    // The schema as Keel left it at version 15: two tagged runs, and an untagged one between them.
    await withClient(url, async (client) => {
      await client.query(`CREATE SCHEMA ${quoted}`);
      await client.query(`CREATE TABLE ${quoted}.keel_meta (key text PRIMARY KEY, value text NOT NULL)`);
      for (const migration of postgresMigrations.filter((candidate) => candidate.version <= 15)) await client.query(migration.sql(quoted));
      await client.query(`INSERT INTO ${quoted}.keel_meta (key, value) VALUES ('schema_version', '15')`);
      await client.query(
        `INSERT INTO ${quoted}.runs (id, task, task_version, principal, tenant, status, created_at, updated_at, last_seq, last_hash)
         VALUES ('older', 't', '1', 'user:ada', 'acme', 'ok', '2030-01-02T00:00:00.000Z', '2030-01-02T00:00:00.000Z', 1, 'h'),
                ('untagged', 't', '1', 'user:ada', 'acme', 'ok', '2030-01-03T00:00:00.000Z', '2030-01-03T00:00:00.000Z', 1, 'h'),
                ('newer', 't', '1', 'user:ada', 'acme', 'ok', '2030-01-04T00:00:00.000Z', '2030-01-04T00:00:00.000Z', 1, 'h')`,
      );
      await client.query(`INSERT INTO ${quoted}.run_tags (run_id, name, value) VALUES ('older', 'project', 'search'), ('older', 'team', 'core'), ('newer', 'project', 'search')`);
    });
    const store = await PostgresStore.open({ url, schema, create: false });
    try {
      assert.deepEqual((await store.getRun('older'))?.tags, { project: 'search', team: 'core' });
      assert.deepEqual((await store.listRuns({ tags: { project: 'search' } })).map((run) => run.id), ['newer', 'older']);
      assert.deepEqual((await store.listRuns({ tags: { project: 'search', team: 'core' } })).map((run) => run.id), ['older']);
      assert.deepEqual((await store.listRuns({ tags: { project: 'search' }, after: { createdAt: '2030-01-03T00:00:00.000Z', id: 'untagged' } })).map((run) => run.id), ['older']);
    } finally {
      await store.close();
    }
    const found = await withClient(url, async (client) => ({
      version: (await client.query<{ value: string }>(`SELECT value FROM ${quoted}.keel_meta WHERE key = 'schema_version'`)).rows[0]?.value,
      tags: (await client.query(`SELECT run_id, name, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS created FROM ${quoted}.run_tags ORDER BY run_id, name`)).rows,
    }));
    assert.deepEqual(found, {
      version: String(latestPostgresSchemaVersion),
      tags: [
        { run_id: 'newer', name: 'project', created: '2030-01-04' },
        { run_id: 'older', name: 'project', created: '2030-01-02' },
        { run_id: 'older', name: 'team', created: '2030-01-02' },
      ],
    });
  } finally {
    await dropSchema(url, schema);
  }
});
