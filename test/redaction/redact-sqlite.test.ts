/**
 * Crypto-shredding on a real SQLite file: a customer's record (labelled personal, subject cust-42)
 * is journaled sealed; after `keel redact --subject cust-42` (the real CLI, spawned) neither the
 * record nor the key remains in the file's bytes, readers show a redacted marker, another
 * customer's record and unlabelled fields stay readable, and the audit log still verifies.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createKeel } from '../../src/agent/index.ts';
import { runCli } from '../../src/cli/index.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { publicFact, supportAgent } from './redaction-fixture.ts';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { output: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) }, environment: { ...process.env, NO_COLOR: '1' }, colour: false });
  return { code, stdout, stderr };
}

function fileBytes(path: string): string {
  return [path, `${path}-wal`].filter((file) => existsSync(file)).map((file) => readFileSync(file).toString('latin1')).join('');
}

test('keel redact --subject shreds one customer: gone from the file, redacted in show, the other customer and unlabelled fields intact, audit verify passes', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-redact-'));
  const database = join(folder, 'keel.db');
  const store = SqliteStore.open({ path: database });
  const keel = await createKeel({ store, agents: [supportAgent('support-ada', 'cust-42'), supportAgent('support-alan', 'cust-77')] });
  const ada = await keel.run('support-ada', { message: 'Where is ORD-1 going?' }, { principal: 'user:eve', tenant: 'acme' });
  const alan = await keel.run('support-alan', { message: 'Where is ORD-1 going?' }, { principal: 'user:eve', tenant: 'acme' });
  assert.equal(ada.status, 'ok', ada.reason);
  assert.equal(alan.status, 'ok', alan.reason);
  // The run's caller gets its answer in the clear; the journal holds it sealed.
  assert.match(JSON.stringify(ada.output), /Ada Lovelace/);
  const key = (await store.subjectKeys.ensureSubjectKeys([{ subject: 'cust-42', keyId: 'unused', material: 'unused', createdAt: new Date().toISOString() }]))[0]?.material ?? '';
  assert.equal(Buffer.from(key, 'base64').length, 32);
  const journal = JSON.stringify(await store.readJournal(ada.runId));
  assert.doesNotMatch(journal, /Lovelace|Marylebone/, 'the record is never journaled in the clear');
  assert.match(journal, /\$sealed/);
  assert.match(journal, new RegExp(publicFact), 'unlabelled data before the lookup stays in the clear');
  await keel.close();
  await store.close();

  const before = await cli(['show', ada.runId, '--db', database, '--json']);
  assert.equal(before.code, 0, before.stderr);
  assert.match(before.stdout, /Ada Lovelace/, 'keel show opens sealed fields while the key exists');

  // The real CLI, as an operator runs it.
  const redact = spawnSync(process.execPath, [launcher, 'redact', '--subject', 'cust-42', '--reason', 'GDPR Art. 17 request 2026-12-01', '--as', 'dpo', '--db', database], { cwd: folder, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(redact.status, 0, redact.stderr);
  assert.match(redact.stdout, /redacted subject cust-42: key \S+ destroyed by user:dpo \(GDPR Art\. 17 request 2026-12-01\); recorded as run /);

  const bytes = fileBytes(database);
  for (const fragment of ['Ada Lovelace', 'Marylebone', 'ada.l@mail.example', key]) assert.equal(bytes.includes(fragment), false, `${fragment} is not in the file`);
  assert.ok(bytes.includes('Alan Turing') === false, 'the other customer is sealed too, under its own key');

  const shown = await cli(['show', ada.runId, '--db', database, '--json']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.doesNotMatch(shown.stdout, /Lovelace|Marylebone/);
  assert.match(JSON.stringify(JSON.parse(shown.stdout)), /"\$redacted":\{"subjects":\["cust-42"\],"at":"20/);
  assert.match(shown.stdout, new RegExp(publicFact));
  const text = await cli(['show', ada.runId, '--db', database]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /hash chain verified/);
  const other = await cli(['show', alan.runId, '--db', database, '--json']);
  assert.match(other.stdout, /Alan Turing/, 'another subject stays readable');

  const verify = await cli(['audit', 'verify', '--db', database]);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);

  const again = await cli(['redact', '--subject', 'cust-42', '--db', database]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already redacted/);
  const unknown = await cli(['redact', '--subject', 'cust-999', '--db', database]);
  assert.notEqual(unknown.code, 0);
  assert.equal(unknown.stderr.trim().split('\n').length, 1, unknown.stderr);
  assert.match(unknown.stderr, /no data sealed for subject cust-999/);
});
