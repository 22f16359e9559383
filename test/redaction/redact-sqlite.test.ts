/**
 * Crypto-shredding on a real SQLite file, with signed tree heads: a customer's record (labelled
 * personal, subject cust-42) is journaled sealed; after `keel redact --subject cust-42` (the real
 * CLI, spawned) neither the record nor its key remains in the file's bytes; `keel show`, the
 * dataset export, the evidence bundle and the telemetry spans hold no trace of it; another
 * customer's record and unlabelled fields stay readable; `keel audit verify` and the bundle's
 * offline verifier pass.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createKeel } from '../../src/agent/index.ts';
import { runCli } from '../../src/cli/index.ts';
import { replayRun } from '../../src/engine/index.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { journalSpans } from '../../src/telemetry/index.ts';
import { publicFact, supportAgent } from './redaction-fixture.ts';

const root = join(import.meta.dirname, '..', '..');
const launcher = join(root, 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-redact-'));
const database = join(folder, 'keel.db');
const publicKey = join(folder, 'keys', 'audit-public-key.pem');
after(() => rmSync(folder, { recursive: true, force: true }));

function environment(): NodeJS.ProcessEnv {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, KEEL_AUDIT_PUBLIC_KEY_FILE: _public, ...rest } = process.env;
  return { ...rest, NO_COLOR: '1', KEEL_AUDIT_SIGNING_KEY_FILE: join(folder, 'keys', 'audit-signing-key.pem') };
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { output: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) }, environment: environment(), colour: false });
  return { code, stdout, stderr };
}

function bytesOf(path: string): string {
  if (statSync(path).isDirectory()) return readdirSync(path).map((name) => bytesOf(join(path, name))).join('');
  return readFileSync(path).toString('latin1');
}

async function readJournalOf(runId: string): Promise<unknown> {
  const store = SqliteStore.open({ path: database, readOnly: true });
  try {
    return await store.readJournal(runId);
  } finally {
    await store.close();
  }
}

function databaseBytes(): string {
  return [database, `${database}-wal`].filter((file) => existsSync(file)).map(bytesOf).join('');
}

const secretFragments = ['Ada Lovelace', 'Marylebone', 'ada.l@mail.example'];

test('keel redact --subject shreds one customer everywhere while every chain and tree head verifies', async () => {
  assert.equal((await cli(['audit', 'keygen', '--out', join(folder, 'keys')])).code, 0);
  const store = SqliteStore.open({ path: database });
  const keel = await createKeel({ store, environment: environment(), agents: [supportAgent('support-ada', 'cust-42'), supportAgent('support-alan', 'cust-77')] });
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
  const pinned = await cli(['dataset', 'create', 'support-turns', '--task', 'support-ada', '--kind', 'model-call', '--db', database]);
  assert.equal(pinned.code, 0, pinned.stderr);
  const exportedBefore = await cli(['dataset', 'export', 'support-turns', '--format', 'openai-chat', '--out', join(folder, 'before.jsonl'), '--db', database]);
  assert.equal(exportedBefore.code, 0, exportedBefore.stderr);
  assert.match(readFileSync(join(folder, 'before.jsonl'), 'utf8'), /Ada Lovelace/, 'a dataset export opens sealed fields while the key exists');
  // An evaluation replays the items in the clear, and journals them sealed as the recorded runs did.
  const evaluated = await cli(['eval', 'run', '--dataset', 'support-turns', '--model', 'sim:default', '--json', '--db', database]);
  assert.ok(evaluated.code === 0 || evaluated.code === 1, evaluated.stderr);
  const evaluationRun = (JSON.parse(evaluated.stdout) as { evaluation: string }).evaluation;
  assert.doesNotMatch(JSON.stringify(await readJournalOf(evaluationRun)), /Lovelace|Marylebone/, 'the evaluation journals the items sealed');

  // The real CLI, as an operator runs it.
  const redact = spawnSync(process.execPath, [launcher, 'redact', '--subject', 'cust-42', '--reason', 'GDPR Art. 17 request 2026-12-01', '--as', 'dpo', '--db', database], { cwd: folder, encoding: 'utf8', env: environment() });
  assert.equal(redact.status, 0, redact.stderr);
  assert.match(redact.stdout, /redacted subject cust-42: key \S+ destroyed by user:dpo \(GDPR Art\. 17 request 2026-12-01\); recorded as run /);

  const bytes = databaseBytes();
  for (const fragment of [...secretFragments, key]) assert.equal(bytes.includes(fragment), false, `${fragment} is not in the database files`);
  assert.equal(bytes.includes('Alan Turing'), false, 'the other customer is sealed too, under its own key');

  const shown = await cli(['show', ada.runId, '--db', database, '--json']);
  assert.equal(shown.code, 0, shown.stderr);
  for (const fragment of secretFragments) assert.equal(shown.stdout.includes(fragment), false);
  assert.match(JSON.stringify(JSON.parse(shown.stdout)), /"\$redacted":\{"subjects":\["cust-42"\],"at":"20/);
  assert.match(shown.stdout, new RegExp(publicFact), 'unlabelled fields stay readable');
  const text = await cli(['show', ada.runId, '--db', database]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /hash chain verified/);
  const other = await cli(['show', alan.runId, '--db', database, '--json']);
  assert.match(other.stdout, /Alan Turing/, 'another subject stays readable');

  for (const format of ['jsonl', 'openai-chat']) {
    const out = join(folder, `after.${format}`);
    const exported = await cli(['dataset', 'export', 'support-turns', '--format', format, '--out', out, '--db', database]);
    assert.equal(exported.code, 0, exported.stderr);
    const written = readFileSync(out, 'utf8');
    for (const fragment of secretFragments) assert.equal(written.includes(fragment), false, `${fragment} is not in the ${format} export`);
    if (format === 'jsonl') assert.match(written, /"\$redacted":\{"subjects":\["cust-42"\]/);
  }

  const replica = SqliteStore.open({ path: database, readOnly: true });
  const spans = JSON.stringify(journalSpans(await replica.readJournal(ada.runId), { captureContent: true }));
  await replica.close();
  assert.match(spans, /execute_tool lookup_customer/);
  for (const fragment of secretFragments) assert.equal(spans.includes(fragment), false, `${fragment} is in no span`);

  // Replay: the other customer's run replays byte for byte from its opened fields; the redacted
  // run replays with the marker where the record was, and reports the difference instead of failing.
  const replayStore = SqliteStore.open({ path: database });
  const replayKeel = await createKeel({ store: replayStore, environment: environment(), agents: [supportAgent('support-ada', 'cust-42'), supportAgent('support-alan', 'cust-77')] });
  try {
    const intact = await replayRun(replayStore, alan.runId, replayKeel.engine.tasks);
    assert.equal(intact.matched, true, JSON.stringify(intact.firstDifference ?? intact.stoppedEarly));
    assert.ok(intact.modelCalls >= 3);
    const redacted = await replayRun(replayStore, ada.runId, replayKeel.engine.tasks);
    assert.equal(redacted.matched, false);
    assert.match(JSON.stringify(redacted.firstDifference ?? redacted.stoppedEarly), /\$redacted/);
  } finally {
    await replayKeel.close();
    await replayStore.close();
  }

  const verify = await cli(['audit', 'verify', '--db', database, '--public-key', publicKey, '--strict']);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);

  const bundle = join(folder, 'bundle');
  const evidence = await cli(['evidence', 'export', '--db', database, '--from', '2020-01-01', '--to', '2100-01-01', '--out', bundle, '--public-key', publicKey]);
  assert.equal(evidence.code, 0, evidence.stderr);
  const bundleBytes = bytesOf(bundle);
  for (const fragment of [...secretFragments, key]) assert.equal(bundleBytes.includes(fragment), false, `${fragment} is not in the evidence bundle`);
  const offline = spawnSync(process.execPath, [join(bundle, 'verify.mjs'), bundle, '--public-key', publicKey], { cwd: folder, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  assert.equal(offline.status, 0, offline.stderr);
  // Two customers' runs, the evaluation and the redaction itself.
  assert.match(offline.stdout, /^verified: 4 runs, \d+ events, 4 audit leaves/);

  const again = await cli(['redact', '--subject', 'cust-42', '--db', database]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already redacted/);
  const unknown = await cli(['redact', '--subject', 'cust-999', '--db', database]);
  assert.notEqual(unknown.code, 0);
  assert.equal(unknown.stderr.trim().split('\n').length, 1, unknown.stderr);
  assert.match(unknown.stderr, /no data sealed for subject cust-999/);
});
