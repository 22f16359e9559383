import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runResponseCacheConformance } from '../conformance/index.ts';
import { PostgresStore } from './index.ts';
import { latestPostgresSchemaVersion, postgresMigrations } from './migrations.ts';
import { countIndexes, dropSchema, openTestPostgres, uniqueSchemaName, withClient } from './test-database.ts';

const database = await openTestPostgres();
const url = 'url' in database ? database.url : '';

// Two stores on one schema: two pools, as two gateway processes would hold.
runResponseCacheConformance(
  'postgres',
  'skipReason' in database
    ? { skip: database.skipReason }
    : async () => {
        const schema = uniqueSchemaName('keel_response_cache');
        const first = await PostgresStore.open({ url, schema });
        const second = await PostgresStore.open({ url, schema });
        return {
          first: first.responseCache,
          second: second.responseCache,
          dispose: async () => {
            await Promise.all([first.close(), second.close()]);
            await dropSchema(url, schema);
          },
        };
      },
);

test('a schema at version 13 opens at the latest with an empty response cache, and keeps its data', { skip: 'skipReason' in database ? database.skipReason : false }, async () => {
  const schema = uniqueSchemaName('keel_response_cache_v13');
  const quoted = `"${schema}"`;
  try {
    // The schema as Keel left it at version 13, with a key and a budget account in it.
    await withClient(url, async (client) => {
      await client.query(`CREATE SCHEMA ${quoted}`);
      await client.query(`CREATE TABLE ${quoted}.keel_meta (key text PRIMARY KEY, value text NOT NULL)`);
      for (const migration of postgresMigrations.filter((candidate) => candidate.version <= 13)) await client.query(migration.sql(quoted));
      await client.query(`INSERT INTO ${quoted}.keel_meta (key, value) VALUES ('schema_version', '13')`);
      await client.query(`INSERT INTO ${quoted}.api_keys (key_id, secret_hash, tenant, principal, settings, created_at) VALUES ('key_old', $1, 'acme', 'svc', '{"models":[]}', '2030-01-01T00:00:00.000Z')`, ['c'.repeat(64)]);
      await client.query(`INSERT INTO ${quoted}.budget_accounts (scope_key, spent_micros, spent_tokens) VALUES ('tenant:acme', 120, 12)`);
    });
    const store = await PostgresStore.open({ url, schema, create: false });
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
    const found = await withClient(url, async (client) => ({
      version: (await client.query<{ value: string }>(`SELECT value FROM ${quoted}.keel_meta WHERE key = 'schema_version'`)).rows[0]?.value,
      indexes: await countIndexes(client, schema, 'response_cache', '(expires_ms)'),
    }));
    assert.deepEqual(found, { version: String(latestPostgresSchemaVersion), indexes: 1 });
  } finally {
    await dropSchema(url, schema);
  }
});
