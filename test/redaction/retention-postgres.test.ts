/**
 * Retention on PostgreSQL: `keel retention apply` deletes the ended runs older than the period
 * after journaling a signed record, keeps the rest, and `keel audit verify` passes afterwards.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createKeel } from '../../src/agent/index.ts';
import { runCli } from '../../src/cli/index.ts';
import { PostgresStore, quoteIdentifier } from '../../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName, withClient } from '../../src/store/testing/index.ts';
import { supportAgent } from './redaction-fixture.ts';

const database = await openTestPostgres();
const skip = 'skipReason' in database ? database.skipReason : false;
const url = 'url' in database ? database.url : '';
const schema = uniqueSchemaName('keel_retention');
const folder = mkdtempSync(join(tmpdir(), 'keel-retention-pg-'));
const config = join(folder, 'keel.json');
after(async () => {
  rmSync(folder, { recursive: true, force: true });
  if (skip === false) await dropSchema(url, schema);
});

function environment(): NodeJS.ProcessEnv {
  const { KEEL_DB: _database, KEEL_CONFIG: _config, KEEL_AUDIT_SIGNING_KEY_FILE: _key, KEEL_AUDIT_PUBLIC_KEY_FILE: _public, ...rest } = process.env;
  return { ...rest, KEEL_PG_SCHEMA: schema, NO_COLOR: '1' };
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli([...args, '--db', url], { output: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) }, environment: environment(), colour: false });
  return { code, stdout, stderr };
}

void test('keel retention apply on PostgreSQL deletes old ended runs after a signed record, and audit verify passes', { skip }, async () => {
  assert.equal((await cli(['audit', 'keygen', '--out', join(folder, 'keys')])).code, 0);
  writeFileSync(config, JSON.stringify({ version: 1, routes: [], audit: { signingKeyFile: join(folder, 'keys', 'audit-signing-key.pem') }, retention: { runs: '30d' } }));
  const store = await PostgresStore.open({ url, schema });
  const keel = await createKeel({ store, environment: environment(), config, agents: [supportAgent('support', 'cust-42')] });
  const runs: string[] = [];
  for (let index = 0; index < 3; index += 1) runs.push((await keel.run('support', { message: 'Where is ORD-1 going?' }, { principal: 'user:eve', tenant: 'acme' })).runId);
  await keel.close();
  await store.close();
  const [old = '', older = '', recent = ''] = runs;
  await withClient(url, (client) => client.query(`UPDATE ${quoteIdentifier(schema)}.runs SET updated_at = '2025-01-01T00:00:00Z' WHERE id = ANY($1::text[])`, [[old, older]]));

  const applied = await cli(['retention', 'apply', '--config', config]);
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /^retention 30d: deleted 2 of 2 ended run\(s\) last written before \S+; recorded as run \S+/);
  const left = await withClient(url, (client) => client.query<{ run_id: string }>(`SELECT DISTINCT run_id FROM ${quoteIdentifier(schema)}.journal WHERE run_id = ANY($1::text[])`, [runs]));
  assert.deepEqual(left.rows.map((row) => row.run_id), [recent], 'only the recent run keeps its journal');
  const verified = await cli(['audit', 'verify', '--public-key', join(folder, 'keys', 'audit-public-key.pem'), '--strict']);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
});
