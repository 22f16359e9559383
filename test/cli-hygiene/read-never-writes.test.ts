/**
 * Read commands open the store read-only: on a 0-byte file, an empty SQLite file, another
 * application's SQLite file (in either journal mode), an empty PostgreSQL schema, a missing one
 * and another application's schema, each answers one line and leaves everything exactly as it
 * was. Only commands that write create or migrate, and they refuse someone else's data too.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { dropSchema, openTestPostgres, uniqueSchemaName, withClient } from '../../src/store/testing/index.ts';
import { assertOneLineError, fileState, keel, tasksModule } from './keel-process.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-read-never-writes-'));
after(() => rmSync(folder, { recursive: true, force: true }));

// Each run id here names no run: a read command must refuse the database before it looks for one.
const readCommands = [['runs'], ['show', 'run_none'], ['escalations'], ['audit', 'verify'], ['replay', 'run_none']];

function sqliteFile(name: string, make: (path: string) => void): string {
  mkdirSync(join(folder, name));
  const path = join(folder, name, 'keel.db');
  make(path);
  return path;
}

const files: { name: string; code: string; make: (path: string) => void }[] = [
  { name: 'zero-bytes', code: 'db-missing', make: (path) => writeFileSync(path, '') },
  {
    name: 'empty-sqlite',
    code: 'db-missing',
    make: (path) => {
      const raw = new DatabaseSync(path);
      raw.exec('PRAGMA user_version = 7; VACUUM');
      raw.close();
    },
  },
  ...['DELETE', 'WAL'].map((mode) => ({
    name: `foreign-${mode.toLowerCase()}`,
    code: 'db-foreign',
    make: (path: string) => {
      const raw = new DatabaseSync(path);
      raw.exec(`PRAGMA journal_mode = ${mode}; CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'Ada')`);
      raw.close();
    },
  })),
];

describe('read commands on a file that is not a Keel database', () => {
  for (const { name, code, make } of files) {
    test(`${name}: every read command refuses it with ${code}, leaving its bytes, modification time and folder as they were`, async () => {
      const path = sqliteFile(name, make);
      const before = fileState(path);
      for (const command of readCommands) {
        assertOneLineError(await keel([...command, '--db', path], { cwd: folder }), 1, code, `keel ${command.join(' ')} on ${name}`);
        assert.equal(fileState(path), before, `keel ${command.join(' ')} changed ${name}`);
      }
    });
  }

  test('commands that write refuse a foreign file untouched, and refuse an empty one unless they create', async () => {
    const foreign = sqliteFile('foreign-for-writers', files[2]?.make ?? (() => undefined));
    const empty = sqliteFile('empty-for-writers', (path) => writeFileSync(path, ''));
    const foreignBefore = fileState(foreign);
    const emptyBefore = fileState(empty);
    const writers = [['run', 'durable-count', '--input', '{"count":1}', '--tasks', tasksModule], ['resume', '--tasks', tasksModule], ['stop', '--all']];
    for (const command of writers) {
      assertOneLineError(await keel([...command, '--db', foreign], { cwd: folder }), 1, 'db-foreign', `keel ${command[0]} on a foreign file`);
    }
    assert.equal(fileState(foreign), foreignBefore);
    // resume and stop act on runs that exist; they do not make a database to find none in.
    for (const command of [['resume', '--tasks', tasksModule], ['stop', '--all']]) {
      assertOneLineError(await keel([...command, '--db', empty], { cwd: folder }), 1, 'db-missing', `keel ${command[0]} on a 0-byte file`);
    }
    assert.equal(fileState(empty), emptyBefore);
    // keel run starts a run: it makes the empty file a Keel database.
    const started = await keel(['run', 'durable-count', '--input', '{"count":1}', '--tasks', tasksModule, '--db', empty], { cwd: folder });
    assert.equal(started.code, 0, started.stderr);
    const listed = await keel(['runs', '--json', '--db', empty], { cwd: folder });
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { runs: { task: string; status: string }[] }).runs.map((run) => [run.task, run.status]), [['durable-count', 'ok']]);
  });
});

const postgres = await openTestPostgres();
const skip = 'skipReason' in postgres ? postgres.skipReason : false;
const url = 'url' in postgres ? postgres.url : '';

describe('read commands on a PostgreSQL schema that is not Keel’s', { skip }, () => {
  const schemas: string[] = [];
  after(async () => {
    for (const schema of schemas) await dropSchema(url, schema);
  });
  const newSchema = async (make: (quoted: string) => string[]): Promise<string> => {
    const schema = uniqueSchemaName('keel_hygiene');
    schemas.push(schema);
    await withClient(url, async (client) => {
      for (const statement of make(`"${schema}"`)) await client.query(statement);
    });
    return schema;
  };
  const relations = (schema: string) =>
    withClient(url, async (client) => {
      const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (exists.rowCount === 0) return 'absent';
      const rows = await client.query<{ relname: string }>('SELECT relname FROM pg_class JOIN pg_namespace ON pg_namespace.oid = relnamespace WHERE nspname = $1 ORDER BY relname', [schema]);
      return rows.rows.map((row) => row.relname).join(',');
    });

  test('an empty schema, a missing one and a foreign one: every read command refuses, and the schema has no more tables than before', async () => {
    const cases = [
      { name: 'an empty schema', code: 'db-missing', schema: await newSchema((quoted) => [`CREATE SCHEMA ${quoted}`]) },
      { name: 'a missing schema', code: 'db-missing', schema: await newSchema(() => []) },
      {
        name: 'a foreign schema',
        code: 'db-foreign',
        schema: await newSchema((quoted) => [`CREATE SCHEMA ${quoted}`, `CREATE TABLE ${quoted}.customers (id integer PRIMARY KEY, name text)`, `INSERT INTO ${quoted}.customers VALUES (1, 'Ada')`]),
      },
    ];
    for (const { name, code, schema } of cases) {
      const before = await relations(schema);
      for (const command of readCommands) {
        assertOneLineError(await keel([...command, '--db', url], { cwd: folder, env: { KEEL_PG_SCHEMA: schema } }), 1, code, `keel ${command.join(' ')} on ${name}`);
      }
      assert.equal(await relations(schema), before, `${name} was changed`);
    }
    const foreign = cases[2]?.schema ?? '';
    const rows = await withClient(url, (client) => client.query(`SELECT id, name FROM "${foreign}".customers`));
    assert.deepEqual(rows.rows, [{ id: 1, name: 'Ada' }]);
  });

  test('commands that write: resume refuses an empty schema untouched, run refuses a foreign one and adopts an empty one', async () => {
    const empty = await newSchema((quoted) => [`CREATE SCHEMA ${quoted}`]);
    const foreign = await newSchema((quoted) => [`CREATE SCHEMA ${quoted}`, `CREATE TABLE ${quoted}.customers (id integer PRIMARY KEY)`]);
    assertOneLineError(await keel(['resume', '--tasks', tasksModule, '--db', url], { cwd: folder, env: { KEEL_PG_SCHEMA: empty } }), 1, 'db-missing', 'resume on an empty schema');
    assert.equal(await relations(empty), '');
    const run = ['run', 'durable-count', '--input', '{"count":1}', '--tasks', tasksModule, '--db', url];
    assertOneLineError(await keel(run, { cwd: folder, env: { KEEL_PG_SCHEMA: foreign } }), 1, 'db-foreign', 'run on a foreign schema');
    assert.equal(await relations(foreign), 'customers,customers_pkey');
    const started = await keel(run, { cwd: folder, env: { KEEL_PG_SCHEMA: empty } });
    assert.equal(started.code, 0, started.stderr);
    assert.match(await relations(empty), /keel_meta/);
  });
});
