/**
 * A provider's silent model update starts an evaluation: runs of `ask` are recorded against the
 * loopback OpenAI wire server answering as one version, pinned as a dataset; then the server
 * answers as a new version, with other answers. The real `keel worker`, monitoring `ask` with
 * `onModelChange.evaluate`, sees the change in a run it executes, evaluates the dataset with the
 * route (now the new version) against the recorded runs, once, journals the scores as any `keel
 * eval run` does, and raises `model-change-regression` in a `keel-monitor` run and to the webhook.
 * The evaluation's run id is derived from the change, so another process seeing the same change
 * finds it claimed in the store and runs nothing; a run budget bounds what an evaluation may spend.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createKeel } from '../../src/agent/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { Engine } from '../../src/engine/index.ts';
import { createDataset, evaluateModelChange, modelChangeEvaluationId } from '../../src/evaluation/index.ts';
import { loadRun } from '../../src/journal/index.ts';
import type { JournalEvent } from '../../src/journal/index.ts';
import { OpenAIWireServer } from '../../src/models/testing/index.ts';
import { monitorTask } from '../../src/monitor/index.ts';
import type { ModelChange } from '../../src/monitor/index.ts';
import { openStore } from '../../src/store/index.ts';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const tasks = join(import.meta.dirname, 'fixtures', 'ask-agent.ts');
const folder = mkdtempSync(join(tmpdir(), 'keel-model-change-eval-'));
const database = join(folder, 'keel.db');
const { ask } = await import('./fixtures/ask-agent.ts');
let wire: OpenAIWireServer;
const oldVersion = { fixture: 'chat-text.json', model: 'gpt-4o-2024-08-06', systemFingerprint: 'fp_a288987b44' };
// The update answers with something else: every replayed item differs from its recorded answer.
const newVersion = { fixture: 'chat-structured.json', model: 'gpt-4o-2024-11-20', systemFingerprint: 'fp_b7c1d2e3f4' };
const recordedRuns = 12;

before(async () => {
  wire = await OpenAIWireServer.start();
});

after(async () => {
  await wire.close();
  rmSync(folder, { recursive: true, force: true });
});

const environment = () => ({ OPENAI_BASE_URL: wire.baseURL, OPENAI_API_KEY: 'sk-test-loopback' });

async function journal(runId: string): Promise<JournalEvent[]> {
  const store = await openStore({ database, create: false, environment: {} });
  try {
    return (await loadRun(store, runId)).events;
  } finally {
    await store.close();
  }
}

test('the worker sees a model update, evaluates the recorded dataset once against the new version, and alerts the regression', { timeout: 60_000 }, async () => {
  const received: Record<string, unknown>[] = [];
  let verdictHeard: (body: Record<string, unknown>) => void = () => undefined;
  const verdict = new Promise<Record<string, unknown>>((resolve) => (verdictHeard = resolve));
  const hook = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const alert = JSON.parse(body) as Record<string, unknown>;
      received.push(alert);
      if (alert.kind === 'model-change-regression' || alert.kind === 'model-change-verdict') verdictHeard(alert);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  try {
    const config = join(folder, 'keel.json');
    const monitors = [{ task: 'ask', sample: 0.01, onModelChange: { evaluate: { dataset: 'before-update', budgetMicros: 1_000_000 } } }];
    // The loopback server is an OpenAI-compatible endpoint, free by default: priced here as gpt-4o is, so budgets bite.
    const prices = { version: 'test-1', models: { 'openai-compatible:gpt-4o': { inputPerMillion: 2_500_000, outputPerMillion: 10_000_000 } } };
    writeFileSync(config, JSON.stringify({ version: 1, prices, routes: [], alerts: { webhooks: [`http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`] }, monitors }));
    // Runs recorded on the old version under the worker's config (a run continues only under the configuration it started with), pinned as a dataset.
    const keel = await createKeel({ database, config, agents: [ask], environment: environment() });
    for (let index = 0; index < recordedRuns; index += 1) {
      wire.reply(oldVersion);
      const outcome = await keel.run('ask', { message: `Question ${index}: what is the capital of France?` }, { principal: 'user:ops', tenant: 'acme' });
      assert.equal(outcome.status, 'ok');
    }
    const dataset = await createDataset(keel.store, { name: 'before-update', definition: { task: 'ask', kind: 'run', statuses: ['ok'], since: null, where: {}, limit: null } });
    assert.equal(dataset.items.length, recordedRuns);
    // Two runs for the worker; enough answers as the new version for them and for every replayed item.
    for (let index = 0; index < 2; index += 1) await keel.enqueue('ask', { message: `Later question ${index}` }, { principal: 'user:ops', tenant: 'acme' });
    await keel.close();
    wire.reply(...Array.from({ length: 2 + recordedRuns }, () => newVersion));

    const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, ...inherited } = process.env;
    const worker = spawn(process.execPath, [launcher, 'worker', '--db', database, '--config', config, '--tasks', tasks, '--concurrency', '1'], {
      cwd: folder,
      env: { ...inherited, NO_COLOR: '1', ...environment() },
    });
    let output = '';
    worker.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    worker.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => worker.once('close', resolve));
    let alert: Record<string, unknown>;
    try {
      // A guard, not a timing assumption: a worker that never alerts fails the test with what it printed.
      const stuck = new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`no verdict within 40 s:\n${output}`)), 40_000).unref());
      alert = await Promise.race([verdict, stuck, exited.then(() => assert.fail(`the worker exited before the verdict:\n${output}`))]);
    } finally {
      worker.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output);

    assert.equal(alert.kind, 'model-change-regression', JSON.stringify(alert));
    assert.equal(alert.scope, 'model:openai-compatible:gpt-4o');
    assert.match(String(alert.message), /answering as gpt-4o-2024-11-20 \(fp_b7c1d2e3f4\), was gpt-4o-2024-08-06 \(fp_a288987b44\): regressed against the 12 recorded runs of dataset before-update/);
    assert.match(String(alert.message), /To roll back, pin the route to gpt-4o-2024-08-06/);
    assert.ok(received.some((body) => body.kind === 'model-version-change'), 'the change itself was alerted by the run that saw it');
    assert.match(output, /model {3}openai-compatible:gpt-4o \(route openai:gpt-4o\) answers as gpt-4o-2024-11-20 \(fp_b7c1d2e3f4\)/);

    // The evaluation is a run of eval:before-update under the id the change gives, scored like any keel eval run.
    const store = await openStore({ database, create: false, environment: {} });
    let change: ModelChange;
    try {
      const evaluations = await store.listRuns({ task: 'eval:before-update', limit: 10 });
      assert.equal(evaluations.length, 1, 'one evaluation for the change');
      const evaluation = evaluations[0];
      assert.ok(evaluation !== undefined);
      assert.equal(alert.about, evaluation.id);
      assert.equal(evaluation.status, 'ok');
      const events = await journal(evaluation.id);
      assert.equal(events.filter((event) => event.type === 'score-record').length, recordedRuns);
      const end = events.at(-1);
      assert.ok(end?.type === 'run-end');
      assert.equal((end.data.output as { verdict: string }).verdict, 'regressed');
      assert.equal((end.data.output as { candidate: string }).candidate, 'openai:gpt-4o');
      // The candidate's calls went through the governed route, reserved against the run budget.
      assert.equal(events.filter((event) => event.type === 'budget-decision' && event.data.outcome === 'reserved').length, recordedRuns);
      const spent = (end.data.output as { costs: { candidate: { calls: number; micros: number } } }).costs.candidate;
      assert.equal(spent.calls, recordedRuns);
      assert.ok(spent.micros > 0 && spent.micros <= 1_000_000, `the candidate spent ${spent.micros} micro-USD, within the evaluation's budget`);

      // The verdict is journaled in a keel-monitor run, about the evaluation.
      const monitorRun = await journal(String(alert.runId));
      assert.ok(monitorRun[0]?.type === 'run-start' && monitorRun[0].data.task === 'keel-monitor');
      const raised = monitorRun.find((event) => event.type === 'alert-raise');
      assert.ok(raised?.type === 'alert-raise');
      assert.equal(raised.data.kind, 'model-change-regression');
      assert.equal(raised.data.about, evaluation.id);

      // Another process seeing the same change finds it claimed: nothing runs, nothing is asked of the provider.
      const seen = (await store.listRuns({ task: 'ask', limit: 20 })).find((run) => run.createdAt > dataset.createdAt);
      assert.ok(seen !== undefined);
      change = {
        runId: seen.id,
        step: 1,
        task: 'ask',
        route: 'openai:gpt-4o',
        provider: 'openai-compatible',
        modelId: 'gpt-4o',
        version: 'gpt-4o-2024-11-20 (fp_b7c1d2e3f4)',
        previous: 'gpt-4o-2024-08-06 (fp_a288987b44)',
        message: '',
      };
      assert.equal(modelChangeEvaluationId(change, { dataset: 'before-update' }), evaluation.id);
    } finally {
      await store.close();
    }
    const requestsBefore = wire.requests.length;
    const other = await createKeel({ database, config, agents: [ask], environment: environment() });
    const alerts = new Engine({ store: other.store, tasks: [monitorTask], workerRegistry: false });
    try {
      const services = { store: other.store, tasks: other.engine.tasks, candidateScript: undefined, config: loadConfig(config), environment: environment(), hooks: [], alerts };
      const again = await evaluateModelChange(change, { dataset: 'before-update' }, services);
      assert.deepEqual(again, { outcome: 'claimed-elsewhere', evaluation: modelChangeEvaluationId(change, { dataset: 'before-update' }) });
      assert.equal(wire.requests.length, requestsBefore);

      // Bounded: an evaluation whose budget cannot cover one call stops, and says so in its alert.
      await createDataset(other.store, { name: 'small', definition: { task: 'ask', kind: 'run', statuses: ['ok'], since: null, where: {}, limit: 2 } });
      const bounded = await evaluateModelChange(change, { dataset: 'small', budgetMicros: 1 }, services);
      assert.equal(bounded.outcome, 'evaluated');
      assert.ok(bounded.outcome === 'evaluated');
      assert.equal(bounded.verdict, 'not-evaluated');
      assert.equal(bounded.alert.kind, 'model-change-verdict');
      assert.match(bounded.alert.message, /not evaluated \(the evaluation ended escalated: budget exhausted: route openai:gpt-4o: run:run_[0-9a-f-]+ has 1 of 1 micro-USD left/);
      assert.equal(wire.requests.length, requestsBefore, 'a refused reservation asks the provider nothing');
    } finally {
      alerts.shutdown();
      await other.close();
    }
  } finally {
    hook.close();
  }
});

test('onModelChange is checked strictly: a bad dataset name, an unknown key, an unknown or judge scorer are refused in one line', async () => {
  const write = (name: string, monitor: unknown) => {
    const path = join(folder, name);
    writeFileSync(path, JSON.stringify({ version: 1, routes: [], monitors: [monitor] }));
    return path;
  };
  assert.throws(() => loadConfig(write('bad-name.json', { task: 'ask', onModelChange: { evaluate: { dataset: 'no spaces' } } })), /monitors\[0\]\.onModelChange\.evaluate\.dataset: must be a dataset name/);
  assert.throws(() => loadConfig(write('unknown-key.json', { task: 'ask', onModelChange: { evaluate: { dataset: 'x', model: 'openai:gpt-4o' } } })), /onModelChange\.evaluate.*model/s);
  assert.throws(() => loadConfig(write('no-budget.json', { task: 'ask', onModelChange: { evaluate: { dataset: 'x', budgetMicros: 0 } } })), /budgetMicros.*must be ≥ 1/s);
  for (const [name, scorers, problem] of [
    ['unknown-scorer.json', 'exact,nope', /monitors\[0\]\.onModelChange\.evaluate\.scorers: unknown scorer 'nope'/],
    ['judge-scorer.json', 'judge', /monitors\[0\]\.onModelChange\.evaluate\.scorers: the judge scorer needs a judge model/],
  ] as const) {
    const config = write(name, { task: 'ask', onModelChange: { evaluate: { dataset: 'x', scorers } } });
    const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, ...inherited } = process.env;
    const worker = spawn(process.execPath, [launcher, 'worker', '--db', join(folder, `${name}.db`), '--config', config, '--tasks', tasks], { cwd: folder, env: { ...inherited, NO_COLOR: '1', ...environment() } });
    let stderr = '';
    worker.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => worker.once('close', resolve));
    assert.equal(code, 1, stderr);
    assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
    assert.match(stderr, /^keel: error \[config-invalid\]: /);
    assert.match(stderr, problem);
  }
});
