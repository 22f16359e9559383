import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkBookFromBeforeRunIds, runBudgetConformance } from '../conformance/index.ts';
import { PostgresStore } from './index.ts';
import { latestPostgresSchemaVersion, postgresMigrations } from './migrations.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName, withClient } from './test-database.ts';

const database = await openTestPostgres();
const url = 'url' in database ? database.url : '';

// Two stores on one schema: two pools, as two processes would hold.
runBudgetConformance(
  'postgres',
  'skipReason' in database
    ? { skip: database.skipReason }
    : async () => {
        const schema = uniqueSchemaName('keel_budget');
        const first = await PostgresStore.open({ url, schema });
        const second = await PostgresStore.open({ url, schema });
        return {
          first: first.budgets,
          second: second.budgets,
          dispose: async () => {
            await Promise.all([first.close(), second.close()]);
            await dropSchema(url, schema);
          },
        };
      },
);

test('a schema at version 12 opens at the latest and keeps its holds and settlements; reservations from then belong to no run', { skip: 'skipReason' in database ? database.skipReason : false }, async () => {
  const schema = uniqueSchemaName('keel_budget_v12');
  const quoted = `"${schema}"`;
  try {
    // The schema as Keel left it at version 12: one reservation held, one settled, in one scope.
    await withClient(url, async (client) => {
      await client.query(`CREATE SCHEMA ${quoted}`);
      await client.query(`CREATE TABLE ${quoted}.keel_meta (key text PRIMARY KEY, value text NOT NULL)`);
      for (const migration of postgresMigrations.filter((candidate) => candidate.version <= 12)) await client.query(migration.sql(quoted));
      await client.query(`INSERT INTO ${quoted}.keel_meta (key, value) VALUES ('schema_version', '12')`);
      await client.query(`INSERT INTO ${quoted}.budget_accounts (scope_key, spent_micros, spent_tokens, reserved_micros, reserved_tokens) VALUES ('tenant:acme', 120, 12, 500, 50)`);
      await client.query(`INSERT INTO ${quoted}.budget_holds (reservation_id, scope_key, micros, tokens, expires_ms) VALUES ('held-before', 'tenant:acme', 500, 50, $1)`, [Date.now() + 60 * 60 * 1000]);
      await client.query(`INSERT INTO ${quoted}.budget_settlements (reservation_id, micros, tokens, settled_ms) VALUES ('settled-before', 120, 12, $1)`, [Date.now()]);
    });
    const store = await PostgresStore.open({ url, schema, create: false });
    try {
      await checkBookFromBeforeRunIds(store.budgets);
    } finally {
      await store.close();
    }
    const version = await withClient(url, (client) => client.query<{ value: string }>(`SELECT value FROM ${quoted}.keel_meta WHERE key = 'schema_version'`));
    assert.equal(version.rows[0]?.value, String(latestPostgresSchemaVersion));
  } finally {
    await dropSchema(url, schema);
  }
});
