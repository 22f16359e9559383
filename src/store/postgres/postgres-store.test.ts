import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import type { Client } from 'pg';
import { after, describe, test } from 'node:test';
import type { JournalRecordV1, JsonValue, NewRunV1, RunRecordV1 } from '../../spec/index.ts';
import type { OpeningTarget } from '../conformance/index.ts';
import { runOpeningConformance, runStoreConformance } from '../conformance/index.ts';
import { parseConnectionUrl } from './connection-url.ts';
import { PostgresStore } from './index.ts';
import { latestPostgresSchemaVersion, postgresMigrations } from './migrations.ts';
import { countIndexes, dropSchema, openTestPostgres, uniqueSchemaName, withClient } from './test-database.ts';

const database = await openTestPostgres();
const skip = 'skipReason' in database ? database.skipReason : false;
if (skip !== false) process.stderr.write(`postgres-store tests skipped: ${skip}\n`);
const url = 'url' in database ? database.url : '';

runStoreConformance(
  'postgres',
  skip !== false
    ? { skip }
    : async () => {
        const schema = uniqueSchemaName('keel_conformance');
        let store = await PostgresStore.open({ url, schema });
        return {
          store,
          reopen: async () => {
            await store.close();
            store = await PostgresStore.open({ url, schema });
            return store;
          },
          dispose: async () => {
            await store.close();
            await dropSchema(url, schema);
          },
        };
      },
);

/** A schema, with `make` creating what it holds before the test (nothing: it does not exist). */
function schemaTarget(make: (client: Client, quoted: string) => Promise<void> = async () => undefined): () => Promise<OpeningTarget> {
  return async () => {
    const schema = uniqueSchemaName('keel_opening');
    const quoted = `"${schema}"`;
    await withClient(url, (client) => make(client, quoted));
    return {
      open: async ({ create, readOnly }) => PostgresStore.open({ url, schema, create, readOnly }),
      // Whether it exists, and every table with all of its rows: what any write would change.
      snapshot: () =>
        withClient(url, async (client) => {
          const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
          if (exists.rowCount === 0) return 'absent';
          const tables = await client.query<{ name: string }>(`SELECT relname AS name FROM pg_class JOIN pg_namespace ON pg_namespace.oid = relnamespace WHERE nspname = $1 ORDER BY relname`, [schema]);
          const parts = [`relations ${tables.rows.map((row) => row.name).join(',')}`];
          for (const { name } of tables.rows) {
            const kind = await client.query<{ relkind: string }>(`SELECT relkind FROM pg_class JOIN pg_namespace ON pg_namespace.oid = relnamespace WHERE nspname = $1 AND relname = $2`, [schema, name]);
            if (kind.rows[0]?.relkind !== 'r') continue;
            const rows = await client.query<{ digest: string | null }>(`SELECT md5(string_agg(row_text, '|' ORDER BY row_text)) AS digest FROM (SELECT t::text AS row_text FROM ${quoted}."${name}" t) rows`);
            parts.push(`${name} ${rows.rows[0]?.digest ?? 'empty'}`);
          }
          return parts.join('\n');
        }),
      setSchemaVersion: async (version) => {
        await withClient(url, (client) => client.query(`UPDATE ${quoted}.keel_meta SET value = $1 WHERE key = 'schema_version'`, [String(version)]));
      },
      dispose: () => dropSchema(url, schema),
    };
  };
}

runOpeningConformance(
  'postgres',
  skip !== false
    ? { skip }
    : {
        missing: schemaTarget(),
        empty: { 'an empty schema': schemaTarget(async (client, quoted) => void (await client.query(`CREATE SCHEMA ${quoted}`))) },
        foreign: {
          "a schema with another application's table": schemaTarget(async (client, quoted) => {
            await client.query(`CREATE SCHEMA ${quoted}`);
            await client.query(`CREATE TABLE ${quoted}.invoices (id integer PRIMARY KEY, total integer)`);
            await client.query(`INSERT INTO ${quoted}.invoices VALUES (1, 500)`);
          }),
        },
        latestVersion: latestPostgresSchemaVersion,
      },
);

// Stores and schemas opened by the tests below, closed and dropped once they are done.
const opened: PostgresStore[] = [];
const schemas: string[] = [];

after(async () => {
  await Promise.all(opened.map((store) => store.close()));
  for (const schema of schemas) await dropSchema(url, schema);
});

function newSchema(prefix: string): string {
  const schema = uniqueSchemaName(prefix);
  schemas.push(schema);
  return schema;
}

async function openStore(schema: string, poolSize?: number): Promise<PostgresStore> {
  const store = await PostgresStore.open(poolSize === undefined ? { url, schema } : { url, schema, poolSize });
  opened.push(store);
  return store;
}

let clock = Date.now();

function record(runId: string, seq: number, type = 'event', data: JsonValue = {}): JournalRecordV1 {
  clock += 1;
  return { runId, seq, time: new Date(clock).toISOString(), type, schemaVersion: 1, prevHash: `hash-${seq - 1}`, hash: `hash-${seq}`, data };
}

function newRun(id: string, lease?: NewRunV1['lease']): NewRunV1 {
  const value: NewRunV1 = {
    run: { id, task: 'pg-test', taskVersion: '1', principal: 'user:ada', tenant: 'acme', status: 'queued' },
    first: record(id, 1, 'run-start'),
  };
  if (lease !== undefined) value.lease = lease;
  return value;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code, String(error));
    return true;
  });
}

void describe('PostgresStore without a server', () => {
  void test('a malformed URL is db-url-invalid, and the message does not echo a password', async () => {
    await expectCode(PostgresStore.open({ url: 'not a url' }), 'db-url-invalid');
    await expectCode(PostgresStore.open({ url: 'mysql://user:secret@host/db' }), 'db-url-invalid');
    await assert.rejects(PostgresStore.open({ url: 'postgres://user:secret@/db' }), (error: Error) => !error.message.includes('secret'));
  });

  void test('an unsafe schema name is config-invalid', async () => {
    await expectCode(PostgresStore.open({ url: 'postgres://127.0.0.1/x', schema: 'Robert"; DROP' }), 'config-invalid');
  });

  void test('sslmode prefer, require and verify-ca are passed to pg as the verify-full they mean there; uselibpqcompat and other modes as written', () => {
    for (const mode of ['prefer', 'require', 'verify-ca']) {
      const target = parseConnectionUrl(`postgres://keel@db.example:5432/keel?application_name=x&sslmode=${mode}&connect_timeout=5`);
      assert.equal(target.url, 'postgres://keel@db.example:5432/keel?application_name=x&sslmode=verify-full&connect_timeout=5');
      assert.match(target.sslNote ?? '', new RegExp(`for sslmode=${mode}, as pg does`));
      assert.ok(target.redactedUrl.includes(`sslmode=${mode}`), 'what Keel prints is what the user wrote');
    }
    for (const url of ['postgres://keel@db.example/keel?uselibpqcompat=true&sslmode=require', 'postgres://keel@db.example/keel?sslmode=disable', 'postgres://keel@db.example/keel?sslmode=verify-full', 'postgres://keel@db.example/keel']) {
      const target = parseConnectionUrl(url);
      assert.equal(target.url, url);
      assert.equal(target.sslNote, undefined);
    }
  });

  void test('a server whose certificate does not verify under sslmode=require: one line saying what Keel checks and what to pass', async (context) => {
    const folder = mkdtempSync(join(tmpdir(), 'keel-tls-'));
    context.after(() => rmSync(folder, { recursive: true, force: true }));
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(folder, 'key.pem'), '-out', join(folder, 'cert.pem')]);
    if (made.error !== undefined || made.status !== 0) {
      context.skip(`openssl could not make a certificate: ${made.error?.message ?? made.stderr.toString()}`);
      return;
    }
    const key = readFileSync(join(folder, 'key.pem'));
    const cert = readFileSync(join(folder, 'cert.pem'));
    // Speaks just enough of PostgreSQL's protocol to start TLS: it accepts the SSLRequest and
    // presents a self-signed certificate, which pg, verifying as it does, refuses.
    const server = createServer((socket) => {
      socket.once('data', () => {
        socket.write('S');
        const secure = new TLSSocket(socket, { isServer: true, key, cert });
        secure.on('error', () => secure.destroy());
      });
      socket.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    context.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    await assert.rejects(PostgresStore.open({ url: `postgres://keel@127.0.0.1:${port}/keel?sslmode=require` }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'db-unavailable');
      // Node's own wording of the refusal varies by version; Keel's note follows it.
      assert.ok(error.message.startsWith(`cannot connect to PostgreSQL at 127.0.0.1:${port}/keel: self-signed certificate`), error.message);
      assert.ok(
        error.message.endsWith(" (Keel verifies the server's certificate for sslmode=require, as pg does: name its CA with sslrootcert=PATH, or add uselibpqcompat=true for libpq's meaning of sslmode)"),
        error.message,
      );
      assert.ok(!error.message.includes('\n'));
      return true;
    });
  });

  void test('an unreachable server is db-unavailable with a one-line message naming it', async () => {
    await assert.rejects(PostgresStore.open({ url: 'postgres://keel:secret@127.0.0.1:1/nowhere' }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'db-unavailable');
      assert.match(error.message, /^cannot connect to PostgreSQL at 127\.0\.0\.1:1\/nowhere: \S/);
      assert.ok(!error.message.includes('\n') && !error.message.includes('secret'));
      return true;
    });
  });
});

void describe('PostgresStore', { skip }, () => {
  void test('location drops the password and names the schema', async () => {
    const schema = newSchema('keel_location');
    const withPassword = new URL(url);
    // Servers on trust auth ignore it; elsewhere the configured URL already carries the real one.
    if (withPassword.password === '') withPassword.password = 'secret';
    const store = await PostgresStore.open({ url: withPassword.href, schema });
    opened.push(store);
    assert.ok(store.location.endsWith(`#${schema}`));
    assert.ok(!store.location.includes(`:${withPassword.password}@`), store.location);
  });

  void test('two processes opening a fresh schema at once both succeed (migrations serialise)', async () => {
    const schema = newSchema('keel_migrate_race');
    const [first, second] = await Promise.all([openStore(schema), openStore(schema)]);
    await first.createRun(newRun('r'));
    assert.equal((await second.getRun('r'))?.lastSeq, 1);
  });

  void test('a schema with foreign tables is db-foreign and left untouched', async () => {
    const schema = newSchema('keel_foreign');
    await withClient(url, async (client) => {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(`CREATE TABLE "${schema}".invoices (id integer PRIMARY KEY, total integer)`);
      await client.query(`INSERT INTO "${schema}".invoices VALUES (1, 500)`);
    });
    await expectCode(PostgresStore.open({ url, schema }), 'db-foreign');
    const tables = await withClient(url, (client) =>
      client.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema]),
    );
    assert.deepEqual(tables.rows.map((row) => row.table_name), ['invoices']);
  });

  void test('a schema from a newer Keel is db-too-new', async () => {
    const schema = newSchema('keel_too_new');
    await (await PostgresStore.open({ url, schema })).close();
    await withClient(url, (client) => client.query(`UPDATE "${schema}".keel_meta SET value = '999' WHERE key = 'schema_version'`));
    await expectCode(PostgresStore.open({ url, schema }), 'db-too-new');
  });

  void test('a schema migrated to version 1 only upgrades in place to the latest and keeps its runs', async () => {
    const schema = newSchema('keel_upgrade_v1');
    const v1 = postgresMigrations.find((migration) => migration.version === 1);
    assert.ok(v1);
    await withClient(url, async (client) => {
      const quoted = `"${schema}"`;
      await client.query(`CREATE SCHEMA ${quoted}`);
      await client.query(`CREATE TABLE ${quoted}.keel_meta (key text PRIMARY KEY, value text NOT NULL)`);
      await client.query(v1.sql(quoted));
      await client.query(`INSERT INTO ${quoted}.keel_meta (key, value) VALUES ('schema_version', '1')`);
      await client.query(
        `INSERT INTO ${quoted}.runs (id, task, task_version, principal, tenant, status, created_at, updated_at, last_seq, last_hash)
         VALUES ('old-run', 't', '1', 'user:ada', 'acme', 'ok', now(), now(), 1, 'h')`,
      );
    });
    const store = await openStore(schema);
    assert.equal((await store.getRun('old-run'))?.status, 'ok');
    const scope = { kind: 'handoff', tenant: 'acme', handoffId: 'h1' } as const;
    const entry = await store.appendMemory({ scope, role: 'state', text: '{}', labels: {}, createdAt: new Date().toISOString(), source: { runId: 'old-run', step: 1 }, contentHash: 'x' });
    assert.equal(entry.seq, 1);
    assert.deepEqual(await store.readMemory(scope), [entry]);
    const version = await withClient(url, (client) => client.query<{ value: string }>(`SELECT value FROM "${schema}".keel_meta WHERE key = 'schema_version'`));
    assert.equal(version.rows[0]?.value, String(latestPostgresSchemaVersion));
    assert.equal(latestPostgresSchemaVersion, 17);
  });

  void test('a schema at version 16 opens at 17 with runs_status_created and pages one status newest first', async () => {
    const schema = newSchema('keel_upgrade_v16');
    const quoted = `"${schema}"`;
    await withClient(url, async (client) => {
      await client.query(`CREATE SCHEMA ${quoted}`);
      await client.query(`CREATE TABLE ${quoted}.keel_meta (key text PRIMARY KEY, value text NOT NULL)`);
      for (const migration of postgresMigrations.filter((candidate) => candidate.version <= 16)) await client.query(migration.sql(quoted));
      await client.query(`INSERT INTO ${quoted}.keel_meta (key, value) VALUES ('schema_version', '16')`);
      await client.query(
        `INSERT INTO ${quoted}.runs (id, task, task_version, principal, tenant, status, created_at, updated_at, last_seq, last_hash)
         VALUES ('w1', 't', '1', 'user:ada', 'acme', 'waiting', '2030-01-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z', 1, 'h'),
                ('o1', 't', '1', 'user:ada', 'acme', 'ok', '2030-01-02T00:00:00.000Z', '2030-01-02T00:00:00.000Z', 1, 'h'),
                ('w2', 't', '1', 'user:ada', 'acme', 'waiting', '2030-01-03T00:00:00.000Z', '2030-01-03T00:00:00.000Z', 1, 'h'),
                ('w3', 't', '1', 'user:ada', 'acme', 'waiting', '2030-01-03T00:00:00.000Z', '2030-01-03T00:00:00.000Z', 1, 'h'),
                ('o2', 't', '1', 'user:ada', 'acme', 'ok', '2030-01-04T00:00:00.000Z', '2030-01-04T00:00:00.000Z', 1, 'h')`,
      );
    });
    const store = await openStore(schema);
    const first = await store.listRuns({ statuses: ['waiting'], limit: 2 });
    assert.deepEqual(first.map((run) => run.id), ['w3', 'w2']);
    const last = first.at(-1);
    assert.ok(last);
    const next = await store.listRuns({ statuses: ['waiting'], limit: 2, after: { createdAt: last.createdAt, id: last.id } });
    assert.deepEqual(next.map((run) => run.id), ['w1']);
    assert.deepEqual((await store.listRuns({ statuses: ['ok', 'waiting'], after: { createdAt: last.createdAt, id: last.id } })).map((run) => run.id), ['o1', 'w1']);
    const found = await withClient(url, async (client) => ({
      version: (await client.query<{ value: string }>(`SELECT value FROM ${quoted}.keel_meta WHERE key = 'schema_version'`)).rows[0]?.value,
      indexes: await countIndexes(client, schema, 'runs', '(status, created_at, id)'),
    }));
    assert.deepEqual(found, { version: '17', indexes: 1 });
  });

  void test('payloads round-trip exactly: numbers, unicode, escapes, key order', async () => {
    const store = await openStore(newSchema('keel_payload'));
    await store.createRun(newRun('r'));
    const data: JsonValue = { z: 1, a: [0.1, 1e21, 5e-324, -17, 9007199254740991], text: 'é ✓ 𝄞 "q" \\ \n \u0000', nested: { b: null, a: true } };
    await store.append({ runId: 'r', records: [record('r', 2, 'payload', data)], summary: {} });
    const stored = (await store.readJournal('r', 1))[0];
    assert.equal(JSON.stringify(stored?.data), JSON.stringify(data));
  });

  void test('a time not in toISOString form is refused before it could break a hash', async () => {
    const store = await openStore(newSchema('keel_time'));
    await store.createRun(newRun('r'));
    await expectCode(store.append({ runId: 'r', records: [{ ...record('r', 2), time: '2024-01-01T00:00:00Z' }], summary: {} }), 'journal-invalid');
  });

  void test('concurrent claimers on two pools never receive the same run', async () => {
    const schema = newSchema('keel_claims');
    const [storeA, storeB] = await Promise.all([openStore(schema), openStore(schema)]);
    const ids = Array.from({ length: 200 }, (_, index) => `run-${String(index).padStart(3, '0')}`);
    await Promise.all(ids.map((id) => storeA.createRun(newRun(id))));
    const claimAll = async (store: PostgresStore, owner: string): Promise<string[]> => {
      const mine: string[] = [];
      for (;;) {
        const claimed = await store.claimRuns({ owner, leaseMs: 60_000, limit: 7 });
        if (claimed.length === 0) return mine;
        assert.ok(claimed.every((run) => run.leaseOwner === owner));
        mine.push(...claimed.map((run) => run.id));
      }
    };
    const [byA, byB] = await Promise.all([claimAll(storeA, 'worker-a'), claimAll(storeB, 'worker-b')]);
    const setA = new Set(byA);
    assert.deepEqual(byB.filter((id) => setA.has(id)), [], 'no run claimed twice');
    assert.deepEqual([...byA, ...byB].sort(), ids);
    assert.ok(byA.length > 0 && byB.length > 0, `both claimers got work (${byA.length}/${byB.length})`);
  });

  void test('an expired lease is claimable by another owner, using the database clock', async () => {
    const store = await openStore(newSchema('keel_expiry'));
    // A live lease (an hour) is never claimable; a lapsed one (1 ms) is, once the database's clock
    // has passed it: polled, so a slow machine only makes the wait longer, never the result differ.
    await store.createRun(newRun('live', { owner: 'worker-old', leaseMs: 3_600_000 }));
    await store.createRun(newRun('r', { owner: 'worker-old', leaseMs: 1 }));
    let claimed: RunRecordV1[] = [];
    for (let attempt = 0; attempt < 200 && claimed.length === 0; attempt += 1) {
      claimed = await store.claimRuns({ owner: 'worker-new', leaseMs: 60_000, limit: 10 });
      if (claimed.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual(claimed.map((run) => [run.id, run.leaseOwner]), [['r', 'worker-new']]);
    assert.deepEqual(await store.claimRuns({ owner: 'worker-new', leaseMs: 60_000, limit: 10 }), [], 'the live lease is not claimable');
  });

  void test('an append fenced by a lost lease fails with lease-lost and writes nothing', async () => {
    const store = await openStore(newSchema('keel_fence'));
    await store.createRun(newRun('expired', { owner: 'worker-a', leaseMs: 1 }));
    await store.createRun(newRun('taken', { owner: 'worker-a', leaseMs: 60_000 }));
    assert.equal(await store.breakLease('taken', 'worker-a'), true);
    await store.claimRuns({ owner: 'worker-b', leaseMs: 60_000, limit: 10, statuses: ['queued'] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (const id of ['expired', 'taken']) {
      const before = await store.getRun(id);
      await expectCode(
        store.append({ runId: id, records: [record(id, 2)], summary: { status: 'ok' }, fence: { leaseOwner: 'worker-a' } }),
        'lease-lost',
      );
      assert.equal((await store.readJournal(id)).length, 1);
      assert.deepEqual(await store.getRun(id), before);
    }
  });

  void test('an expired lease nobody took can still be renewed by its owner', async () => {
    const store = await openStore(newSchema('keel_renew'));
    await store.createRun(newRun('r', { owner: 'worker-a', leaseMs: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((await store.renewLease('r', 'worker-a', 60_000)).held, true);
    await store.append({ runId: 'r', records: [record('r', 2)], summary: {}, fence: { leaseOwner: 'worker-a' } });
  });

  void test('group commit: 200 concurrent appends to 200 runs land in fewer transactions', async () => {
    const store = await openStore(newSchema('keel_group'));
    const ids = Array.from({ length: 200 }, (_, index) => `run-${index}`);
    await Promise.all(ids.map((id) => store.createRun(newRun(id))));
    const before = store.stats;
    await Promise.all(ids.map((id, index) => store.append({ runId: id, records: [record(id, 2, 'step', { index })], summary: { stepCount: 1 } })));
    const transactions = store.stats.transactions - before.transactions;
    assert.equal(store.stats.writes - before.writes, 200);
    assert.ok(transactions < 200 / 4, `expected group commit, saw ${transactions} transactions for 200 appends`);
    for (const id of ids) assert.equal((await store.getRun(id))?.lastSeq, 2);
  });

  void test('two processes racing on the same runs: each seq is written once, the loser sees journal-conflict', async () => {
    const schema = newSchema('keel_race');
    const [storeA, storeB] = await Promise.all([openStore(schema), openStore(schema)]);
    const ids = Array.from({ length: 40 }, (_, index) => `run-${index}`);
    await Promise.all(ids.map((id) => storeA.createRun(newRun(id))));
    // Each store keeps appending the next seq it believes in; conflicts make it re-read and retry.
    const writer = async (store: PostgresStore, label: string): Promise<number> => {
      let written = 0;
      for (let round = 0; round < 5; round += 1) {
        const results = await Promise.allSettled(
          ids.map(async (id) => {
            const next = ((await store.getRun(id))?.lastSeq ?? 0) + 1;
            await store.append({ runId: id, records: [record(id, next, label)], summary: { stepCount: next } });
          }),
        );
        for (const result of results) {
          if (result.status === 'fulfilled') written += 1;
          else assert.equal((result.reason as { code?: unknown }).code, 'journal-conflict', String(result.reason));
        }
      }
      return written;
    };
    const [byA, byB] = await Promise.all([writer(storeA, 'a'), writer(storeB, 'b')]);
    let total = 0;
    for (const id of ids) {
      const journal = await storeA.readJournal(id);
      assert.deepEqual(journal.map((entry) => entry.seq), journal.map((_, index) => index + 1));
      assert.equal((await storeB.getRun(id))?.lastSeq, journal.length);
      total += journal.length - 1;
    }
    assert.equal(total, byA + byB);
  });

  void test('a write the database refuses fails alone; the rest of its group commits', async () => {
    const store = await openStore(newSchema('keel_refused'));
    await Promise.all(['a', 'b', 'c'].map((id) => store.createRun(newRun(id))));
    const results = await Promise.allSettled([
      store.append({ runId: 'a', records: [record('a', 2)], summary: {} }),
      // PostgreSQL text cannot hold NUL, so the server refuses this one.
      store.append({ runId: 'b', records: [record('b', 2, 'bad\u0000type')], summary: {} }),
      store.append({ runId: 'c', records: [record('c', 2)], summary: {} }),
    ]);
    assert.deepEqual(results.map((result) => result.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal(((results[1] as PromiseRejectedResult).reason as { code?: unknown }).code, 'journal-invalid');
    assert.equal((await store.getRun('b'))?.lastSeq, 1);
  });

  void test('close commits appends already issued', async () => {
    const schema = newSchema('keel_close');
    const store = await PostgresStore.open({ url, schema });
    await store.createRun(newRun('r'));
    const pending = store.append({ runId: 'r', records: [record('r', 2)], summary: {} });
    await store.close();
    await pending;
    await expectCode(store.getRun('r'), 'db-unavailable');
    const reopened = await openStore(schema);
    assert.equal((await reopened.getRun('r'))?.lastSeq, 2);
  });
});
