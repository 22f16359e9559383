import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { runCli } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-cli-'));
const database = join(folder, 'keel.db');
const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');

async function keel(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    output: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) },
    environment: { KEEL_DB: database },
    colour: false,
  });
  return { code, stdout, stderr };
}

after(() => rmSync(folder, { recursive: true, force: true }));

describe('keel on a demo database', () => {
  let demoRuns: { id: string; task: string; status: string; reason: string | null; confidence: unknown[] }[] = [];
  before(async () => {
    const result = await keel('demo', '--json');
    assert.equal(result.code, 0, result.stderr);
    demoRuns = (JSON.parse(result.stdout) as { runs: typeof demoRuns }).runs;
  });

  test('demo --json reports every run with id, task and an explicit end state, one of them degraded', () => {
    assert.equal(demoRuns.length, 5);
    for (const run of demoRuns) {
      assert.match(run.id, /^run_/);
      assert.equal(run.task, 'support-refund');
    }
    assert.deepEqual(demoRuns.map((run) => run.status), ['ok', 'ok', 'waiting', 'degraded', 'failed']);
    assert.ok(demoRuns[3]?.confidence.length === 1, 'the degraded run carries its confidence marker');
    // The marker comes from the output contract's confidence threshold, via its failure contract.
    const [marker] = (demoRuns[3]?.confidence ?? []) as { subject: string; confidence: number; reason: string }[];
    assert.equal(marker?.subject, 'support-answer');
    assert.match(marker?.reason ?? '', /below the minimum 0\.7/);
    assert.match(demoRuns[2]?.reason ?? '', /auto-approval limit; a support lead must approve it/);
    assert.match(demoRuns[4]?.reason ?? '', /payments API unavailable/);
  });

  test('runs --json lists the runs with steps and tokens', async () => {
    const result = await keel('runs', '--json');
    assert.equal(result.code, 0);
    const { runs } = JSON.parse(result.stdout) as { runs: { id: string; task: string; status: string; steps: number; tokens: { total: number } }[] };
    assert.deepEqual(new Set(runs.map((run) => run.id)), new Set(demoRuns.map((run) => run.id)));
    assert.ok(runs.every((run) => run.steps > 0 && run.tokens.total > 0));
  });

  test('runs prints a table, and filters by status', async () => {
    const result = await keel('runs', '--status', 'waiting');
    assert.equal(result.code, 0);
    assert.match(result.stdout, /RUN\s+TASK\s+STATUS\s+STEPS\s+TOKENS/);
    assert.equal(result.stdout.trim().split('\n').length, 2);
  });

  test('show prints the timeline and the verified chain', async () => {
    const refunded = demoRuns[0]?.id ?? '';
    const result = await keel('show', refunded);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /run-start/);
    assert.match(result.stdout, /tool-call issue_refund/);
    assert.match(result.stdout, /run-end\s+ok/);
    assert.match(result.stdout, /hash chain verified/);
    const json = JSON.parse((await keel('show', refunded, '--json')).stdout) as { chain: { ok: boolean }; events: { type: string }[] };
    assert.equal(json.chain.ok, true);
    assert.equal(json.events.at(-1)?.type, 'run-end');
  });

  test('replay rebuilds every model input byte for byte; with --model it re-runs against a candidate', async () => {
    const refunded = demoRuns[0]?.id ?? '';
    const result = await keel('replay', refunded);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /all 4 model inputs match the journal byte for byte/);
    const candidate = JSON.parse((await keel('replay', refunded, '--model', 'sim:fast', '--json')).stdout) as { candidateRun: { completed: boolean; toolCalls: string[] } };
    assert.equal(candidate.candidateRun.completed, true);
    assert.deepEqual(candidate.candidateRun.toolCalls.map((call) => call.split('(')[0]), ['lookup_order', 'read_policy', 'issue_refund']);
    assert.equal((await keel('replay', 'run_nope')).code, 1);
  });

  test('every run (version 4, the example agent) replays byte for byte', async () => {
    for (const run of demoRuns) {
      const result = await keel('replay', run.id, '--json');
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout) as { taskVersion: string; matched: boolean; modelCalls: number; checks: { recordedHash: string; rebuiltHash: string }[] };
      assert.equal(report.taskVersion, '4');
      assert.equal(report.matched, true, `${run.id} (${run.status})`);
      assert.ok(report.modelCalls >= 1);
      assert.ok(report.checks.every((check) => check.recordedHash === check.rebuiltHash));
    }
  });

  test('show of the degraded run: Cedar and flow decisions, context manifest, output validation, the marker at the end', async () => {
    const degraded = demoRuns[3]?.id ?? '';
    const result = await keel('show', degraded);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /task support-refund v4/);
    assert.match(result.stdout, /context-assembly\s+manifest [0-9a-f]{12}/);
    assert.match(result.stdout, /policy-decision\s+user:ravi issue-refund Order::A-1004: allow \[customer-refunds-own-order\]/);
    assert.match(result.stdout, /policy-decision\s+user:ravi flow Order::A-1004: allow/);
    assert.match(result.stdout, /output-validation\s+support-answer v2 attempt 1: valid \(low confidence 0\.55 < 0\.7\)/);
    assert.match(result.stdout, /failure-decision\s+support-answer low-confidence: degrade/);
    assert.match(result.stdout, /run-end\s+degraded .*confidence: support-answer 0\.55/);
    const json = JSON.parse((await keel('show', degraded, '--json')).stdout) as { events: { type: string; data: Record<string, unknown> }[] };
    const assembly = json.events.find((event) => event.type === 'context-assembly');
    const manifest = assembly?.data.manifest as { manifestHash: string; sections: { name: string }[] };
    assert.equal(manifest.manifestHash, assembly?.data.manifestHash);
    assert.deepEqual(manifest.sections.map((section) => section.name), ['instructions', 'message']);
  });

  test('resume leaves a run that waits for a person waiting', async () => {
    const result = await keel('resume', '--json');
    assert.equal(result.code, 0);
    const report = JSON.parse(result.stdout) as { resumed: unknown[]; stillOpen: { id: string; status: string }[] };
    assert.deepEqual(report.resumed, []);
    assert.deepEqual(report.stillOpen.map((run) => run.status), ['waiting']);
  });

  test('audit verify passes, then names the first event that was tampered with', async () => {
    assert.equal((await keel('audit', 'verify')).code, 0);
    const target = demoRuns[1]?.id ?? '';
    const raw = new DatabaseSync(database);
    const runKey = `(SELECT key FROM runs WHERE id = ?)`;
    const victim = raw.prepare(`SELECT seq FROM journal WHERE run_key = ${runKey} AND type = 'step-end' AND data LIKE '%A-1002%' ORDER BY seq LIMIT 1`).get(target);
    const seq = Number(victim?.seq);
    raw.prepare(`UPDATE journal SET data = replace(data, 'A-1002', 'A-6666') WHERE run_key = ${runKey} AND seq = ?`).run(target, seq);
    raw.close();
    const result = await keel('audit', 'verify');
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`run ${target} event ${seq} \\(step-end\\): its content does not match its hash`));
    const json = JSON.parse((await keel('audit', 'verify', '--json')).stdout) as { ok: boolean; failures: { runId: string; seq: number }[] };
    assert.equal(json.ok, false);
    assert.deepEqual(json.failures.map((failure) => [failure.runId, failure.seq]), [[target, seq]]);
  });
});

describe('bad input gets one line, a non-zero exit, and no change to data', () => {
  test('unknown run id', async () => {
    const result = await keel('show', 'run_does-not-exist');
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `keel: error [run-not-found]: no run run_does-not-exist in ${database} (list them with \`keel runs\`)\n`);
  });

  test('malformed --db', async () => {
    const result = await keel('runs', '--db', 'mysql://localhost/keel');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^keel: error \[db-url-invalid\]: --db has unsupported scheme 'mysql:\/\/'.*\n$/);
  });

  test('a database that does not exist is not created by a read command', async () => {
    const missing = join(folder, 'nowhere', 'keel.db');
    const result = await keel('runs', '--db', missing);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^keel: error \[db-missing\]/);
    assert.throws(() => readFileSync(missing));
  });

  test('unknown command and unknown option are usage errors (exit 2)', async () => {
    assert.equal((await keel('launch')).code, 2);
    const result = await keel('runs', '--colour');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^keel: error \[usage-invalid\]: Unknown option '--colour'/);
  });

  test('a bad configuration stops the command at start with one line naming the setting', async () => {
    const write = (name: string, value: unknown) => {
      const path = join(folder, name);
      writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
      return path;
    };
    const cases: [string, unknown, RegExp][] = [
      ['unknown-provider.json', { version: 1, routes: [{ name: 'support', models: ['gemini:pro'] }] }, /routes\[0\]\.models\[0\]: unknown provider 'gemini'/],
      ['missing-key.json', { version: 1, routes: [{ name: 'support', models: ['openai:gpt-4o'] }] }, /routes\[0\] \(support\): OPENAI_API_KEY is not set/],
      ['bad-route.json', { version: 1, routes: [{ name: 'support', models: ['sim:fast'], rules: [{ when: { tools: true }, use: 'sim:smart' }] }] }, /routes\[0\]\.rules\[0\]\.use/],
      ['float-price.json', { version: 1, prices: { version: 'mine', models: { 'sim:fast': { inputPerMillion: 0.5, outputPerMillion: 1 } } }, routes: [] }, /prices\.models\["sim:fast"\]\.inputPerMillion/],
      ['not-json.json', '{ "version": 1,', /not valid JSON/],
    ];
    for (const [name, value, expected] of cases) {
      const result = await keel('demo', '--config', write(name, value), '--db', join(folder, 'config-check.db'));
      assert.equal(result.code, 1, name);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, expected, name);
    }
    assert.throws(() => readFileSync(join(folder, 'config-check.db')), 'nothing was created');
  });

  test('a configured route and budget govern the demo', async () => {
    const path = join(folder, 'keel.config.json');
    writeFileSync(path, JSON.stringify({ version: 1, routes: [{ name: 'support', models: ['sim:smart', 'sim:fast'], strategy: 'cheapest' }], budgets: [{ scope: 'run', micros: 100_000 }] }));
    const result = await keel('demo', '--config', path, '--db', join(folder, 'configured.db'), '--json');
    assert.equal(result.code, 0, result.stderr);
    const { runs } = JSON.parse(result.stdout) as { runs: { id: string; costMicros: number }[] };
    const shown = await keel('show', runs[0]?.id ?? '', '--db', join(folder, 'configured.db'));
    assert.match(shown.stdout, /route support → sim:fast \(cheapest worst case/);
  });

  test('the real command: unreadable and foreign databases, one line on stderr, no stack, bytes untouched', () => {
    const notes = join(folder, 'notes.txt');
    writeFileSync(notes, 'meeting notes\n'.repeat(100));
    const foreign = join(folder, 'crm.db');
    const raw = new DatabaseSync(foreign);
    raw.exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'Ada')`);
    raw.close();
    for (const [file, code] of [[notes, 'db-unreadable'], [foreign, 'db-foreign']] as const) {
      const before = readFileSync(file);
      for (const argv of [['runs'], ['demo'], ['audit', 'verify'], ['resume']]) {
        const child = spawnSync(process.execPath, [launcher, ...argv, '--db', file], { encoding: 'utf8' });
        assert.equal(child.status, 1, `${argv.join(' ')} on ${code}`);
        assert.equal(child.stdout, '');
        assert.equal(child.stderr.trim().split('\n').length, 1, child.stderr);
        assert.match(child.stderr, new RegExp(`^keel: error \\[${code}\\]`));
        assert.doesNotMatch(child.stderr, /\n\s+at /);
      }
      assert.deepEqual(readFileSync(file), before, `${file} was modified`);
    }
  });
});
