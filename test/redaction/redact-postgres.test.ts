/**
 * Crypto-shredding on PostgreSQL: after `keel redact --subject` no table of the schema holds the
 * customer's record, and the key table's file on disk (read after a CHECKPOINT) no longer holds
 * the key, while it did before; the other customer stays readable and the audit log verifies.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Client } from 'pg';
import { createKeel } from '../../src/agent/index.ts';
import { runCli } from '../../src/cli/index.ts';
import { PostgresStore, quoteIdentifier } from '../../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName, withClient } from '../../src/store/testing/index.ts';
import { supportAgent } from './redaction-fixture.ts';

const database = await openTestPostgres();
const skip = 'skipReason' in database ? database.skipReason : false;
const url = 'url' in database ? database.url : '';
const schema = uniqueSchemaName('keel_redact');
after(async () => {
  if (skip === false) await dropSchema(url, schema);
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const { KEEL_DB: _database, ...rest } = process.env;
  const code = await runCli([...args, '--db', url], { output: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) }, environment: { ...rest, KEEL_PG_SCHEMA: schema, NO_COLOR: '1' }, colour: false });
  return { code, stdout, stderr };
}

/** Every row of every table of the schema, as text. */
async function schemaText(client: Client): Promise<string> {
  const tables = await client.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema]);
  const texts: string[] = [];
  // One query at a time: a client runs its queries in sequence.
  for (const row of tables.rows) texts.push(...(await client.query<{ row: string }>(`SELECT t::text AS row FROM ${quoteIdentifier(schema)}.${quoteIdentifier(row.table_name)} t`)).rows.map((found) => found.row));
  return texts.join('\n');
}

/** The key table's heap file as PostgreSQL left it on disk. */
async function keyTableFile(client: Client): Promise<string> {
  await client.query('CHECKPOINT');
  const file = await client.query<{ bytes: Buffer }>(`SELECT pg_read_binary_file(pg_relation_filepath($1)) AS bytes`, [`${quoteIdentifier(schema)}.subject_keys`]);
  return file.rows[0]?.bytes.toString('latin1') ?? '';
}

void test('keel redact on PostgreSQL: the record is in no table, the key is gone from the key table file, audit verify passes', { skip }, async () => {
  const store = await PostgresStore.open({ url, schema });
  const keel = await createKeel({ store, agents: [supportAgent('support-ada', 'cust-42'), supportAgent('support-alan', 'cust-77')] });
  const ada = await keel.run('support-ada', { message: 'Where is ORD-1 going?' }, { principal: 'user:eve', tenant: 'acme' });
  const alan = await keel.run('support-alan', { message: 'Where is ORD-1 going?' }, { principal: 'user:eve', tenant: 'acme' });
  assert.equal(ada.status, 'ok', ada.reason);
  assert.equal(alan.status, 'ok', alan.reason);
  const key = (await store.subjectKeys.ensureSubjectKeys([{ subject: 'cust-42', keyId: 'unused', material: 'unused', createdAt: new Date().toISOString() }]))[0]?.material ?? '';
  await keel.close();
  await store.close();

  await withClient(url, async (client) => {
    const text = await schemaText(client);
    assert.doesNotMatch(text, /Lovelace|Turing/, 'records are journaled sealed, never in the clear');
    assert.ok((await keyTableFile(client)).includes(key), 'before: the key is in the key table file (the check can see it)');
  });
  const before = await cli(['show', ada.runId, '--json']);
  assert.equal(before.code, 0, before.stderr);
  assert.match(before.stdout, /Ada Lovelace/);

  const redact = await cli(['redact', '--subject', 'cust-42', '--reason', 'erasure request', '--as', 'dpo']);
  assert.equal(redact.code, 0, redact.stderr);
  assert.match(redact.stdout, /redacted subject cust-42/);
  // The act is journaled: who, why, when and which key, in a run of its own.
  const redactionRun = /recorded as run (\S+)/.exec(redact.stdout)?.[1] ?? '';
  const act = JSON.parse((await cli(['show', redactionRun, '--json'])).stdout) as { run: { task: string }; events: { type: string; data: { name?: string; input?: unknown; outcome?: { value?: { keyId?: string; redactedAt?: string } } } }[] };
  assert.equal(act.run.task, 'subject-redaction');
  assert.deepEqual(act.events.find((event) => event.type === 'step-start' && event.data.name === 'subject-redact')?.data.input, { by: 'user:dpo', reason: 'erasure request', subject: 'cust-42' });
  assert.match(act.events.find((event) => event.type === 'step-end')?.data.outcome?.value?.redactedAt ?? '', /^20\d\d-/);

  await withClient(url, async (client) => {
    assert.equal((await schemaText(client)).includes(key), false, 'no table holds the key');
    assert.equal((await keyTableFile(client)).includes(key), false, 'the key table file no longer holds the key');
  });
  const shown = await cli(['show', ada.runId, '--json']);
  assert.doesNotMatch(shown.stdout, /Lovelace/);
  assert.match(JSON.stringify(JSON.parse(shown.stdout)), /"\$redacted":\{"subjects":\["cust-42"\]/);
  const other = await cli(['show', alan.runId, '--json']);
  assert.match(other.stdout, /Alan Turing/);
  const verify = await cli(['audit', 'verify']);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});
