/**
 * Crypto-shredding reaches memory: session, hand-off and long-term entries about a subject
 * (labelled personal with `subjects`, or written by a run that holds the subject's data) are stored
 * sealed, on a real SQLite file and a real PostgreSQL schema. The store's bytes never hold the
 * plaintext; readers get it back while the key exists; after `keel redact --subject` they get the
 * redacted marker (an agent sees `[redacted <when>]` in its context and still answers), no byte of
 * the store holds the plaintext, another subject stays readable and `keel audit verify` passes.
 * And `keel eval run --baseline-run` reads an earlier evaluation's sealed report through the opener.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Client } from 'pg';
import { createKeel, defineAgent } from '../../src/agent/index.ts';
import { runCli } from '../../src/cli/index.ts';
import { defineTask, Engine } from '../../src/engine/index.ts';
import type { RunContext } from '../../src/engine/index.ts';
import { KeelError } from '../../src/errors/index.ts';
import { earlierEvaluation } from '../../src/evaluation/index.ts';
import type { EvaluationInput } from '../../src/evaluation/index.ts';
import { Handoff, LongTermMemory, SessionMemory } from '../../src/memory/index.ts';
import { canSeal } from '../../src/redaction/index.ts';
import type { StoreV1 } from '../../src/spec/index.ts';
import { PostgresStore, quoteIdentifier, SqliteStore } from '../../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName, withClient } from '../../src/store/testing/index.ts';
import { secrets, supportAgent } from './redaction-fixture.ts';

const root = join(import.meta.dirname, '..', '..');
const launcher = join(root, 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-redact-memory-'));
const postgres = await openTestPostgres();
const skip = 'skipReason' in postgres ? postgres.skipReason : false;
const url = 'url' in postgres ? postgres.url : '';
const schema = uniqueSchemaName('keel_redact_memory');
after(async () => {
  rmSync(folder, { recursive: true, force: true });
  if (skip === false) await dropSchema(url, schema);
});

/** What must never be readable once cust-42 is redacted (and never in the store's bytes at all). */
const adaFragments = ['Ada Lovelace', 'Marylebone', 'ada.l@mail.example', 'prefers calls after six'];
const adaFact = 'Ada prefers calls after six, on 0170 555 0142';
const alanFact = 'Alan prefers e-mail';

function environment(): NodeJS.ProcessEnv {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, KEEL_AUDIT_PUBLIC_KEY_FILE: _public, ...rest } = process.env;
  return { ...rest, NO_COLOR: '1', KEEL_AUDIT_SIGNING_KEY_FILE: join(folder, 'keys', 'audit-signing-key.pem') };
}

async function cli(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { output: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) }, environment: { ...environment(), ...extra }, colour: false });
  return { code, stdout, stderr };
}

/** The support agent of the other redaction tests, with session and hand-off memory. */
function rememberingAgent() {
  return defineAgent({ ...supportAgent('support-ada', 'cust-42').declaration, memory: { session: true, handoff: true } });
}

/** Runs the agent twice in one session (the second run reads the first one's memory), writes long-term memory directly, summarises a labelled scope. */
async function writeMemory(store: StoreV1): Promise<{ runIds: string[] }> {
  const keel = await createKeel({ store, environment: environment(), agents: [rememberingAgent()] });
  const runIds: string[] = [];
  try {
    for (const handoff of ['ada-first', 'ada-second']) {
      const result = await keel.run('support-ada', { message: 'Where is ORD-1 going?', session: 'chat-1', handoff }, { principal: 'user:eve', tenant: 'acme' });
      assert.equal(result.status, 'ok', result.reason);
      runIds.push(result.runId);
    }
  } finally {
    await keel.close();
  }
  const longTerm = new LongTermMemory({ store, tenant: 'acme', principal: 'user:eve' });
  await longTerm.remember(adaFact, { labels: { classification: 'personal', subjects: 'cust-42' } });
  await longTerm.remember(alanFact, { labels: { classification: 'personal', subjects: 'cust-77' } });
  await longTerm.remember('The shop opens at nine', { labels: { classification: 'public' } });
  // Two entries about both customers summarised into one: the summary is sealed under both.
  const notes = new SessionMemory({ store, tenant: 'acme', sessionId: 'notes' });
  await notes.remember(`${secrets['cust-42']} called`, { labels: { classification: 'personal', subjects: 'cust-42' } });
  await notes.remember(`${secrets['cust-77']} called`, { labels: { classification: 'confidential', subjects: 'cust-77' } });
  await notes.remember('latest turn');
  const summary = await notes.summariseIfOver(0, (entries) => Promise.resolve(`summary: ${entries.map((entry) => entry.text).join('; ')}`));
  assert.deepEqual(summary?.labels, { classification: 'personal', subjects: 'cust-42,cust-77' }, 'the summary names every subject it may repeat');
  return { runIds };
}

/** What memory reads give while the key of cust-42 exists. */
async function assertOpened(store: StoreV1): Promise<void> {
  const session = await new SessionMemory({ store, tenant: 'acme', sessionId: 'chat-1' }).entries();
  assert.equal(session.length, 4, 'two turns of two entries');
  const answers = session.filter((entry) => entry.role === 'assistant');
  for (const answer of answers) assert.equal(answer.text, `Shipping to ${secrets['cust-42']}.`);
  assert.deepEqual(answers[0]?.labels, { classification: 'personal', origin: 'system', subjects: 'cust-42' }, 'a run holding cust-42 data labels its memory so');
  const handed = await new Handoff({ store, tenant: 'acme', handoffId: 'ada-first' }).read();
  assert.equal((handed?.state as { answer?: string } | undefined)?.answer, `Shipping to ${secrets['cust-42']}.`);
  const longTerm = new LongTermMemory({ store, tenant: 'acme', principal: 'user:eve' });
  const items = await longTerm.items();
  assert.deepEqual(items.map((item) => item.text), [adaFact, alanFact, 'The shop opens at nine']);
  assert.deepEqual(items[0]?.labels.subjects, ['cust-42']);
  const notes = await new SessionMemory({ store, tenant: 'acme', sessionId: 'notes' }).entries();
  assert.match(notes[0]?.text ?? '', /^summary: Ada Lovelace.*Alan Turing/);

  // The stored form: sealed text, and a content hash of that sealed text (no guess of the plaintext can be confirmed against it).
  const stored = await store.readMemory({ kind: 'long-term', tenant: 'acme', principal: 'user:eve' });
  assert.match(stored[0]?.text ?? '', /^\{"\$sealed":\{/);
  assert.equal(stored[0]?.contentHash, createHash('sha256').update(stored[0]?.text ?? '').digest('hex'));
  assert.notEqual(stored[0]?.contentHash, createHash('sha256').update(adaFact).digest('hex'));
  assert.equal(stored[2]?.text, 'The shop opens at nine', 'public memory is stored as written');
}

/** What memory reads give once cust-42 is redacted; an agent run in the same session still answers. */
async function assertRedacted(store: StoreV1): Promise<void> {
  const session = await new SessionMemory({ store, tenant: 'acme', sessionId: 'chat-1' }).entries();
  for (const answer of session.filter((entry) => entry.role === 'assistant')) {
    assert.match(answer.text, /^\[redacted 20\d\d-\d\d-\d\dT[\d:.]+Z\]$/);
    assert.deepEqual(answer.redacted?.subjects, ['cust-42']);
  }
  const handed = await new Handoff({ store, tenant: 'acme', handoffId: 'ada-first' }).read();
  assert.deepEqual((handed?.state as { $redacted?: { subjects: string[] } } | undefined)?.$redacted?.subjects, ['cust-42'], 'a redacted hand-off reads as the redacted marker');
  const items = await new LongTermMemory({ store, tenant: 'acme', principal: 'user:eve' }).items();
  assert.match(items[0]?.text ?? '', /^\[redacted /);
  assert.equal(items[0]?.labels.subjects, undefined, 'a redacted item holds nothing of its subject any more');
  assert.equal(items[1]?.text, alanFact, 'another subject stays readable');
  assert.equal(items[2]?.text, 'The shop opens at nine');
  const notes = await new SessionMemory({ store, tenant: 'acme', sessionId: 'notes' }).entries();
  assert.match(notes[0]?.text ?? '', /^\[redacted /, 'a summary sealed under both subjects goes with either');

  // The agent reads the redacted memory into its context and still answers.
  const keel = await createKeel({ store, environment: environment(), agents: [rememberingAgent()] });
  try {
    const result = await keel.run('support-ada', { message: 'Where is ORD-1 going?', session: 'chat-1', handoff: 'ada-first' }, { principal: 'user:eve', tenant: 'acme' });
    assert.equal(result.status, 'ok', result.reason);
    const firstRequest = (await store.readJournal(result.runId)).map((record) => JSON.stringify(record)).find((text) => text.includes('"turn-1"') && text.includes('step-start'));
    assert.match(firstRequest ?? '', /\[redacted 20/, 'the model was sent the marker where the memory was');
  } finally {
    await keel.close();
  }
}

function sqliteBytes(database: string): string {
  return [database, `${database}-wal`].filter((file) => existsSync(file)).map((file) => readFileSync(file).toString('latin1')).join('');
}

test('memory about a subject on SQLite: sealed in the file, opened while the key exists, redacted everywhere after keel redact', async () => {
  assert.equal((await cli(['audit', 'keygen', '--out', join(folder, 'keys')])).code, 0);
  const database = join(folder, 'keel.db');
  const store = SqliteStore.open({ path: database });
  const { runIds } = await writeMemory(store);
  await assertOpened(store);
  await store.close();
  const before = sqliteBytes(database);
  for (const fragment of [...adaFragments, alanFact, 'Alan Turing']) assert.equal(before.includes(fragment), false, `${fragment} is never stored in the clear (memory, journals)`);
  assert.ok(before.includes('The shop opens at nine'), 'the check sees what is stored in the clear');

  // The real CLI, as an operator runs it.
  const redact = spawnSync(process.execPath, [launcher, 'redact', '--subject', 'cust-42', '--reason', 'erasure request', '--as', 'dpo', '--db', database], { cwd: folder, encoding: 'utf8', env: environment() });
  assert.equal(redact.status, 0, redact.stderr);
  assert.match(redact.stdout, /redacted subject cust-42/);

  const reopened = SqliteStore.open({ path: database });
  try {
    await assertRedacted(reopened);
  } finally {
    await reopened.close();
  }
  const bytes = sqliteBytes(database);
  for (const fragment of adaFragments) assert.equal(bytes.includes(fragment), false, `${fragment} is not in the database files`);
  // Only the runs before the redaction: the one after it looked the customer up again, new data under a new key.
  for (const runId of runIds) {
    const shown = await cli(['show', runId, '--db', database, '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    for (const fragment of adaFragments) assert.equal(shown.stdout.includes(fragment), false, `${fragment} is not in keel show of ${runId}`);
  }
  const verify = await cli(['audit', 'verify', '--db', database, '--public-key', join(folder, 'keys', 'audit-public-key.pem'), '--strict']);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});

/** Every row of every table of the schema, as text. */
async function schemaText(client: Client): Promise<string> {
  const tables = await client.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema]);
  const texts: string[] = [];
  // One query at a time: a client runs its queries in sequence.
  for (const row of tables.rows) texts.push(...(await client.query<{ row: string }>(`SELECT t::text AS row FROM ${quoteIdentifier(schema)}.${quoteIdentifier(row.table_name)} t`)).rows.map((found) => found.row));
  return texts.join('\n');
}

void test('memory about a subject on PostgreSQL: sealed in every table, redacted after keel redact, audit verify passes', { skip }, async () => {
  const store = await PostgresStore.open({ url, schema });
  try {
    await writeMemory(store);
    await assertOpened(store);
  } finally {
    await store.close();
  }
  await withClient(url, async (client) => {
    const text = await schemaText(client);
    for (const fragment of [...adaFragments, alanFact, 'Alan Turing']) assert.equal(text.includes(fragment), false, `${fragment} is in no table`);
    assert.ok(text.includes('The shop opens at nine'), 'the check sees what is stored in the clear');
  });
  const postgresEnvironment = { KEEL_PG_SCHEMA: schema };
  const redact = await cli(['redact', '--subject', 'cust-42', '--reason', 'erasure request', '--as', 'dpo', '--db', url], postgresEnvironment);
  assert.equal(redact.code, 0, redact.stderr);
  const reopened = await PostgresStore.open({ url, schema });
  try {
    await assertRedacted(reopened);
  } finally {
    await reopened.close();
  }
  await withClient(url, async (client) => {
    const text = await schemaText(client);
    for (const fragment of adaFragments) assert.equal(text.includes(fragment), false, `${fragment} is in no table`);
  });
  const verify = await cli(['audit', 'verify', '--db', url], postgresEnvironment);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
});

test('keel eval run --baseline-run reads an earlier evaluation through the opener: opened while the key exists, refused in one line once redacted', async () => {
  const store = SqliteStore.open({ path: join(folder, 'baseline.db') });
  try {
    const input: EvaluationInput = { dataset: 'support', contentHash: 'c0ffee', candidate: 'sim:default', baseline: 'recorded', scorers: 'exact', scorerVersions: { exact: '1' }, judge: null, seed: 1, margin: 0, effectOfInterest: 0 };
    const report = { evaluation: 'earlier', items: [{ item: 'run-1', candidate: { exact: 1 }, answer: secrets['cust-42'] }] };
    // An evaluation run that held someone's data: its report is journaled sealed under cust-42.
    const earlier = defineTask({
      name: 'eval:support',
      version: '1',
      run: async (context: RunContext) => {
        assert.ok(canSeal(context) && (await context.sealSubjects(['cust-42'])));
        return report;
      },
    });
    const engine = new Engine({ store, tasks: [earlier], leaseMs: 5_000 });
    const run = await engine.start('eval:support', input, { principal: 'user:eve', tenant: 'acme' });
    assert.equal(run.status, 'ok', run.reason);
    assert.doesNotMatch(JSON.stringify(await store.readJournal(run.runId)), /Lovelace/, 'the report is journaled sealed');
    assert.deepEqual((await earlierEvaluation(store, run.runId, input)).report, report, 'opened while the key exists');
    await store.subjectKeys.destroySubjectKey('cust-42', { by: 'user:dpo', reason: 'erasure request', at: new Date().toISOString() });
    await assert.rejects(earlierEvaluation(store, run.runId, input), (error: unknown) => error instanceof KeelError && error.code === 'evaluation-incomparable' && /report was redacted \(subject cust-42\)/.test(error.message));
  } finally {
    await store.close();
  }
});
