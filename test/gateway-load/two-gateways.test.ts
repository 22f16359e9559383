/**
 * Two real `keel serve` processes on one PostgreSQL schema, in front of one upstream that reports
 * its own usage per request: 500 concurrent requests against a key with a small budget never
 * overspend (the journals, the budget ledger and the provider's reported usage agree), and 100
 * streamed answers whose clients leave at random chunks are each settled at the usage the upstream
 * reported for them.
 */
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { PostgresStore } from '../../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from '../../src/store/testing/index.ts';
import type { RunRecordV1 } from '../../src/spec/index.ts';
import { childEnvironment, keel, launcher } from '../cli-hygiene/keel-process.ts';
import { UsageUpstream, usageOfCase } from './usage-upstream.ts';

const database = await openTestPostgres();
const skip = 'skipReason' in database ? database.skipReason : false;
const url = 'url' in database ? database.url : '';
const schema = uniqueSchemaName('keel_gateway_load');
const folder = mkdtempSync(join(tmpdir(), 'keel-gateway-load-'));
const configPath = join(folder, 'keel.config.json');
// Integer micro-USD per million tokens: a call of ~13 tokens in and ~14 out costs ~3,000 micro-USD.
const price = { inputPerMillion: 100_000_000, outputPerMillion: 200_000_000 };
const model = 'openai:load-model';

function costOf(usage: { promptTokens: number; completionTokens: number }): number {
  return Math.ceil((usage.promptTokens * price.inputPerMillion + usage.completionTokens * price.outputPerMillion) / 1_000_000);
}

let upstream: UsageUpstream;
let store: PostgresStore;
const servers: { child: ChildProcessWithoutNullStreams; url: string; exited: Promise<number | null>; stderr: () => string }[] = [];

async function startServe(): Promise<(typeof servers)[number]> {
  const environment = childEnvironment({ KEEL_PG_SCHEMA: schema, OPENAI_API_KEY: 'upstream-key', OPENAI_BASE_URL: upstream.baseURL });
  const child = spawn(process.execPath, [launcher, 'serve', '--port', '0', '--db', url, '--config', configPath, '--require-keys'], { env: environment, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (found?.[1] !== undefined) resolve(found[1]);
    });
    void exited.then((code) => reject(new Error(`keel serve exited ${code} before listening: ${stderr}`)));
  });
  return { child, url: listening, exited, stderr: () => stderr };
}

async function createKey(budgetMicros: number): Promise<{ secret: string; keyId: string }> {
  const created = await keel(['keys', 'create', '--tenant', 'acme', '--principal', 'load', '--budget-micros', String(budgetMicros), '--per', 'day', '--json', '--db', url], {
    cwd: folder,
    env: { KEEL_PG_SCHEMA: schema },
  });
  assert.equal(created.code, 0, created.stderr);
  const parsed = JSON.parse(created.stdout) as { secret: string; key: { keyId: string } };
  return { secret: parsed.secret, keyId: parsed.key.keyId };
}

/** Waits until none of these runs is still running (a stream's drain settles after its client left). */
async function settledRuns(runIds: readonly string[]): Promise<RunRecordV1[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const runs = await Promise.all(runIds.map(async (runId) => store.getRun(runId)));
    const pending = runs.filter((run) => run === undefined || run.status === 'running' || run.status === 'queued');
    if (pending.length === 0) return runs as RunRecordV1[];
    if (Date.now() > deadline) throw new Error(`${pending.length} runs never settled`);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** mulberry32: the same chunk counts on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

before(async () => {
  if (skip !== false) return;
  upstream = await UsageUpstream.start();
  // OPENAI_BASE_URL makes the provider `openai-compatible`, free unless priced: this one is priced.
  writeFileSync(configPath, JSON.stringify({ version: 1, prices: { version: 'load-1', models: { 'openai-compatible:load-model': price } }, routes: [{ name: 'support', models: [model], resilience: { maxAttempts: 1 } }] }));
  // The first process creates the schema; the second finds it made.
  const created = await keel(['keys', 'list', '--db', url], { cwd: folder, env: { KEEL_PG_SCHEMA: schema } });
  assert.ok(created.code === 0 || created.code === 1, created.stderr);
  servers.push(await startServe());
  servers.push(await startServe());
  store = await PostgresStore.open({ url, schema });
});

after(async () => {
  for (const server of servers) server.child.kill('SIGTERM');
  for (const server of servers) assert.equal(await server.exited, 0, server.stderr());
  await store?.close();
  await upstream?.close();
  if (skip === false) await dropSchema(url, schema);
  rmSync(folder, { recursive: true, force: true });
});

describe('two keel serve processes on one PostgreSQL database', { skip }, () => {
  test('500 concurrent requests against a key with a small budget never overspend: journals, ledger and the provider\'s usage agree', async (context) => {
    const budget = 300_000;
    const { secret, keyId } = await createKey(budget);
    const clients = servers.map((server) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: secret, maxRetries: 0 }));
    const first = 1_000;
    const outcomes = await Promise.all(
      Array.from({ length: 500 }, async (_, index) => {
        const caseNumber = first + index;
        const client = clients[index % 2];
        assert.ok(client !== undefined);
        try {
          const { data, response } = await client.chat.completions
            .create({ model: 'support', max_tokens: 32, messages: [{ role: 'user', content: `case ${caseNumber}` }] })
            .withResponse();
          return { caseNumber, runId: response.headers.get('keel-run-id'), usage: data.usage };
        } catch (error) {
          assert.ok(error instanceof OpenAI.RateLimitError && error.code === 'budget_exceeded', `case ${caseNumber}: ${String(error)}`);
          return { caseNumber, runId: error.headers?.get('keel-run-id') ?? null, refused: true as const };
        }
      }),
    );
    const served = outcomes.filter((outcome) => !('refused' in outcome));
    assert.ok(served.length > 0 && served.length < 500, `some calls fit the budget, not all: ${served.length}`);
    // What the provider reported, for the calls it answered.
    let providerMicros = 0;
    let providerTokens = 0;
    for (const [caseNumber, usage] of upstream.reported) {
      if (caseNumber < first || caseNumber >= first + 500) continue;
      providerMicros += costOf(usage);
      providerTokens += usage.promptTokens + usage.completionTokens;
    }
    assert.equal(upstream.reported.size, served.length, 'the upstream answered exactly the calls that were served');
    // What the journals recorded, for every run these requests opened (refused ones included: they spent nothing).
    let journalMicros = 0;
    let journalTokens = 0;
    for (const outcome of outcomes) {
      assert.ok(outcome.runId !== null, `case ${outcome.caseNumber} names its run`);
      const run = await store.getRun(outcome.runId);
      assert.ok(run !== undefined);
      journalMicros += run.costMicros;
      journalTokens += run.inputTokens + run.outputTokens;
      if (!('refused' in outcome)) {
        const expected = usageOfCase(outcome.caseNumber);
        assert.equal(run.costMicros, costOf(expected), `case ${outcome.caseNumber} is billed at the provider's usage`);
      }
    }
    const account = await store.budgets.readBudget(`key:${keyId}:day:${today()}`);
    assert.ok(account !== undefined);
    assert.equal(account.reserved.micros, 0, 'no reservation is left open');
    assert.equal(account.spent.micros, journalMicros, 'ledger = journals');
    assert.equal(journalMicros, providerMicros, 'journals = provider-reported usage');
    assert.equal(journalTokens, providerTokens);
    assert.ok(account.spent.micros <= budget, `spent ${account.spent.micros} of ${budget}`);
    context.diagnostic(`served ${served.length} of 500; spent ${account.spent.micros} of ${budget} micro-USD; ledger = journals = provider usage`);
  });

  test('100 streamed answers whose clients leave at random chunks are each settled at the usage the upstream reported', async () => {
    const { secret } = await createKey(1_000_000_000);
    const clients = servers.map((server) => new OpenAI({ baseURL: `${server.url}/v1`, apiKey: secret, maxRetries: 0 }));
    const random = seededRandom(2026);
    upstream.holdAfterChunks = 3;
    const first = 5_000;
    const runIds = await Promise.all(
      Array.from({ length: 100 }, async (_, index) => {
        const caseNumber = first + index;
        const client = clients[index % 2];
        assert.ok(client !== undefined);
        // Leave after 1 to 3 content chunks: the upstream holds the rest until this client has gone.
        const leaveAfter = 1 + Math.floor(random() * 3);
        const { data: stream, response } = await client.chat.completions
          .create({ model: 'support', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: `case ${caseNumber}` }] })
          .withResponse();
        let seen = 0;
        for await (const chunk of stream) {
          if ((chunk.choices[0]?.delta.content ?? '') !== '') seen += 1;
          if (seen === leaveAfter) break;
        }
        upstream.release(caseNumber);
        const runId = response.headers.get('keel-run-id');
        assert.ok(runId !== null);
        return { caseNumber, runId, seen };
      }),
    );
    upstream.holdAfterChunks = undefined;
    const runs = await settledRuns(runIds.map((entry) => entry.runId));
    for (const [index, run] of runs.entries()) {
      const entry = runIds[index];
      assert.ok(entry !== undefined);
      const expected = usageOfCase(entry.caseNumber);
      assert.ok(entry.seen < expected.completionTokens, `case ${entry.caseNumber}: the client left before the end (${entry.seen} of ${expected.completionTokens})`);
      assert.deepEqual(upstream.reported.get(entry.caseNumber), expected, `case ${entry.caseNumber}: the upstream finished its answer`);
      assert.equal(run.status, 'ok', `case ${entry.caseNumber}: ${run.reason ?? ''}`);
      assert.equal(run.inputTokens, expected.promptTokens, `case ${entry.caseNumber} input tokens`);
      assert.equal(run.outputTokens, expected.completionTokens, `case ${entry.caseNumber} output tokens`);
      assert.equal(run.costMicros, costOf(expected), `case ${entry.caseNumber} cost`);
    }
  });
});
