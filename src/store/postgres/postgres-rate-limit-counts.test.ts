/**
 * The per-key hit counts PostgreSQL rate limits decide by (migration 11) against the window rows
 * they stand for: a schema upgraded with calls in its windows counts them, and the counts follow
 * the rows through grants, refusals, pruning and a key named twice in one call.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { postgresMigrations } from './migrations.ts';
import { PostgresStore } from './postgres-store.ts';
import { quoteIdentifier } from './sql-identifiers.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName, withClient } from './test-database.ts';

const database = await openTestPostgres();
const url = 'url' in database ? database.url : '';
const schemas: string[] = [];
after(async () => {
  for (const schema of schemas) await dropSchema(url, schema);
});

const start = 1_000_000;

/** Each key's count beside the number of its rows, for every key either table names (and a key's time bound is under all its rows). */
async function countsAndRows(schema: string): Promise<{ key: string; counted: number; rows: number }[]> {
  const quoted = quoteIdentifier(schema);
  const { rows } = await withClient(url, (client) =>
    client.query<{ key: string; counted: number; rows: number; bounded: boolean }>(
      `SELECT coalesce(tally.limit_key, hit.limit_key) AS key, coalesce(tally.hits, 0) AS counted, coalesce(hit.rows, 0)::integer AS rows,
              hit.oldest IS NULL OR tally.oldest_ms <= hit.oldest AS bounded
         FROM ${quoted}.rate_limit_counts AS tally
         FULL JOIN (SELECT limit_key, count(*) AS rows, min(hit_ms) AS oldest FROM ${quoted}.rate_limit_hits GROUP BY limit_key) AS hit ON hit.limit_key = tally.limit_key
         ORDER BY 1`,
    ),
  );
  for (const row of rows) assert.equal(row.bounded, true, `key ${row.key} has a row older than its count's bound`);
  return rows.map(({ key, counted, rows: held }) => ({ key, counted, rows: held }));
}

describe('PostgreSQL rate-limit counts', { skip: 'skipReason' in database ? database.skipReason : false }, () => {
  void test('a schema upgraded with calls in its windows counts them, and decides by them at once', async () => {
    const schema = uniqueSchemaName('keel_counts_upgrade');
    schemas.push(schema);
    const quoted = quoteIdentifier(schema);
    await withClient(url, async (client) => {
      await client.query(`CREATE SCHEMA ${quoted}`);
      await client.query(`CREATE TABLE ${quoted}.keel_meta (key text PRIMARY KEY, value text NOT NULL)`);
      for (const migration of postgresMigrations.filter((entry) => entry.version <= 10)) await client.query(migration.sql(quoted));
      await client.query(`INSERT INTO ${quoted}.keel_meta (key, value) VALUES ('schema_version', '10')`);
      // Four calls on one key (the first about to leave its 1 s window) and one on another.
      await client.query(`SELECT ${quoted}.rate_limit_acquire(ARRAY['tenant:a'], ARRAY[10], ARRAY[1000::bigint], $1, $2)`, [start, 'a1']);
      for (const [offset, hit] of [[400, 'a2'], [500, 'a3'], [600, 'a4']] as const) {
        await client.query(`SELECT ${quoted}.rate_limit_acquire(ARRAY['tenant:a', 'tenant:b'], ARRAY[10, 10], ARRAY[1000::bigint, 1000::bigint], $1, $2)`, [start + offset, hit]);
      }
    });
    const store = await PostgresStore.open({ url, schema });
    try {
      assert.deepEqual(await countsAndRows(schema), [
        { key: 'tenant:a', counted: 4, rows: 4 },
        { key: 'tenant:b', counted: 3, rows: 3 },
      ]);
      // At start + 1000 the first call has left: three remain, so a limit of three is full until
      // the one at start + 400 leaves.
      assert.deepEqual(await store.rateLimits.acquire([{ key: 'tenant:a', limit: 3, windowMs: 1_000 }], { nowMs: start + 1_000 }), { allowed: false, key: 'tenant:a', retryAfterMs: 400 });
      assert.deepEqual(await store.rateLimits.acquire([{ key: 'tenant:a', limit: 4, windowMs: 1_000 }], { nowMs: start + 1_000 }), { allowed: true });
      assert.deepEqual(await countsAndRows(schema), [
        { key: 'tenant:a', counted: 4, rows: 4 },
        { key: 'tenant:b', counted: 3, rows: 3 },
      ]);
    } finally {
      await store.close();
    }
  });

  void test('the counts follow the rows through grants, refusals, pruning and a key named twice', async () => {
    const schema = uniqueSchemaName('keel_counts_follow');
    schemas.push(schema);
    const store = await PostgresStore.open({ url, schema });
    try {
      const limiter = store.rateLimits;
      // Named twice in one call, a key counts it once.
      assert.deepEqual(
        await limiter.acquire(
          [
            { key: 'k', limit: 3, windowMs: 1_000 },
            { key: 'k', limit: 3, windowMs: 1_000 },
          ],
          { nowMs: start },
        ),
        { allowed: true },
      );
      assert.deepEqual(await countsAndRows(schema), [{ key: 'k', counted: 1, rows: 1 }]);
      for (const offset of [100, 200]) assert.deepEqual(await limiter.acquire([{ key: 'k', limit: 3, windowMs: 1_000 }, { key: 'other', limit: 5, windowMs: 1_000 }], { nowMs: start + offset }), { allowed: true });
      // Refused by the full key: the other, though it has room, is not counted.
      assert.deepEqual(await limiter.acquire([{ key: 'other', limit: 5, windowMs: 1_000 }, { key: 'k', limit: 3, windowMs: 1_000 }], { nowMs: start + 300 }), { allowed: false, key: 'k', retryAfterMs: 700 });
      assert.deepEqual(await countsAndRows(schema), [
        { key: 'k', counted: 3, rows: 3 },
        { key: 'other', counted: 2, rows: 2 },
      ]);
      // A shorter window prunes more, even on a refusal, and the count drops with the rows.
      assert.deepEqual(await limiter.acquire([{ key: 'k', limit: 1, windowMs: 150 }], { nowMs: start + 300 }), { allowed: false, key: 'k', retryAfterMs: 50 });
      assert.deepEqual(await countsAndRows(schema), [
        { key: 'k', counted: 1, rows: 1 },
        { key: 'other', counted: 2, rows: 2 },
      ]);
      // Everything has left: the keys count nothing and a full limit's worth fits again.
      for (let call = 0; call < 3; call += 1) assert.deepEqual(await limiter.acquire([{ key: 'k', limit: 3, windowMs: 1_000 }], { nowMs: start + 5_000 }), { allowed: true });
      assert.deepEqual(await limiter.acquire([{ key: 'k', limit: 3, windowMs: 1_000 }], { nowMs: start + 5_000 }), { allowed: false, key: 'k', retryAfterMs: 1_000 });
      assert.deepEqual(await countsAndRows(schema), [
        { key: 'k', counted: 3, rows: 3 },
        { key: 'other', counted: 2, rows: 2 },
      ]);
    } finally {
      await store.close();
    }
  });

  void test('a count gone wrong (a call written by the old function mid-upgrade) is right again once its window empties', async () => {
    const schema = uniqueSchemaName('keel_counts_heal');
    schemas.push(schema);
    const store = await PostgresStore.open({ url, schema });
    try {
      for (const offset of [0, 100]) assert.deepEqual(await store.rateLimits.acquire([{ key: 'low', limit: 5, windowMs: 1_000 }, { key: 'high', limit: 5, windowMs: 1_000 }], { nowMs: start + offset }), { allowed: true });
      await withClient(url, (client) => client.query(`UPDATE ${quoteIdentifier(schema)}.rate_limit_counts SET hits = CASE limit_key WHEN 'low' THEN 1 ELSE 4 END`));
      assert.deepEqual(await store.rateLimits.acquire([{ key: 'low', limit: 5, windowMs: 1_000 }, { key: 'high', limit: 5, windowMs: 1_000 }], { nowMs: start + 5_000 }), { allowed: true });
      assert.deepEqual(await countsAndRows(schema), [
        { key: 'high', counted: 1, rows: 1 },
        { key: 'low', counted: 1, rows: 1 },
      ]);
    } finally {
      await store.close();
    }
  });
});
