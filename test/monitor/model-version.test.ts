/**
 * A provider's silent model update, seen through the real OpenAI adapter against the loopback wire
 * server: each answer's reported version (`model`, `system_fingerprint`) is journaled; a run in a
 * new process whose answer reports another version than the journal's last raises
 * `model-version-change` (the last version lives in the store, not in a process), which `keel show`
 * prints; pinning the route to the previous version in the config asks the provider for it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadRun } from '../../src/journal/index.ts';
import type { JournalEvent } from '../../src/journal/index.ts';
import { OpenAIWireServer } from '../../src/models/testing/index.ts';
import { openStore } from '../../src/store/index.ts';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const tasks = join(import.meta.dirname, 'fixtures', 'ask-agent.ts');
const folder = mkdtempSync(join(tmpdir(), 'keel-model-version-'));
const database = join(folder, 'keel.db');
let wire: OpenAIWireServer;

before(async () => {
  wire = await OpenAIWireServer.start();
});

after(async () => {
  await wire.close();
  rmSync(folder, { recursive: true, force: true });
});

function keel(args: string[], extra: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, ...environment } = process.env;
  const child = spawn(process.execPath, [launcher, ...args], {
    cwd: folder,
    env: { ...environment, NO_COLOR: '1', OPENAI_BASE_URL: wire.baseURL, OPENAI_API_KEY: 'sk-test-loopback', ...extra },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function ask(extra: Record<string, string> = {}, config?: string): Promise<string> {
  const result = await keel(['run', 'ask', '--input', '{"message":"What is the capital of France?"}', '--tasks', tasks, '--db', database, '--json', ...(config === undefined ? [] : ['--config', config])], extra);
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  return (JSON.parse(result.stdout) as { runId: string }).runId;
}

async function events(runId: string): Promise<JournalEvent[]> {
  const store = await openStore({ database, create: false, environment: {} });
  try {
    return (await loadRun(store, runId)).events;
  } finally {
    await store.close();
  }
}

test('a model update in the provider answers raises model-version-change in the next process, keel show prints it, and a pin rolls the route back', async () => {
  wire.reply({ fixture: 'chat-text.json', model: 'gpt-4o-2024-08-06', systemFingerprint: 'fp_a288987b44' });
  const first = await ask();
  const firstEvents = await events(first);
  const attempt = firstEvents.find((event) => event.type === 'model-attempt-end');
  assert.ok(attempt?.type === 'model-attempt-end');
  assert.equal(attempt.data.responseModel, 'gpt-4o-2024-08-06', 'the reported model is journaled with the attempt');
  assert.equal(attempt.data.systemFingerprint, 'fp_a288987b44');
  assert.equal(firstEvents.filter((event) => event.type === 'alert-raise').length, 0, 'the first version seen is no change');

  // Same version again, another process: nothing to say.
  wire.reply({ fixture: 'chat-text.json', model: 'gpt-4o-2024-08-06', systemFingerprint: 'fp_a288987b44' });
  const same = await ask();
  assert.equal((await events(same)).filter((event) => event.type === 'alert-raise').length, 0);

  // The provider updates the model behind the alias: a new process compares with the journal's last version.
  wire.reply({ fixture: 'chat-text.json', model: 'gpt-4o-2024-11-20', systemFingerprint: 'fp_b7c1d2e3f4' });
  const updated = await ask();
  const alerts = (await events(updated)).filter((event) => event.type === 'alert-raise');
  assert.equal(alerts.length, 1);
  const alert = alerts[0];
  assert.ok(alert?.type === 'alert-raise');
  assert.equal(alert.data.kind, 'model-version-change');
  assert.match(alert.data.message, /answered as gpt-4o-2024-11-20 \(fp_b7c1d2e3f4\); it last answered as gpt-4o-2024-08-06 \(fp_a288987b44\)/);
  assert.match(alert.data.message, /"pin": \{ "openai:gpt-4o": "gpt-4o-2024-08-06" \}/);

  const shown = await keel(['show', updated, '--db', database]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /alert-raise\s+model-version-change model:openai-compatible:gpt-4o: openai-compatible:gpt-4o \(route openai:gpt-4o\) answered as gpt-4o-2024-11-20/);

  // Rollback: the route pinned to the previous version asks the provider for it by name.
  const config = join(folder, 'keel.json');
  writeFileSync(config, JSON.stringify({ version: 1, routes: [{ name: 'answers', models: ['openai:gpt-4o'], pin: { 'openai:gpt-4o': 'gpt-4o-2024-08-06' } }] }));
  wire.reply({ fixture: 'chat-text.json', model: 'gpt-4o-2024-08-06', systemFingerprint: 'fp_a288987b44' });
  const pinned = await ask({ KEEL_FIXTURE_MODEL: 'answers' }, config);
  assert.equal((wire.lastRequest.body as { model: string }).model, 'gpt-4o-2024-08-06', 'the pinned version is what the provider is asked for');
  const pinnedEvents = await events(pinned);
  const pinnedAttempt = pinnedEvents.find((event) => event.type === 'model-attempt-end');
  assert.ok(pinnedAttempt?.type === 'model-attempt-end');
  assert.equal(pinnedAttempt.data.modelId, 'gpt-4o', 'the journal keeps the name the route lists');
  assert.equal(pinnedAttempt.data.responseModel, 'gpt-4o-2024-08-06');
  const rolledBack = pinnedEvents.filter((event) => event.type === 'alert-raise');
  assert.equal(rolledBack.length, 1, 'going back to the old version is itself a change, and said so');
  assert.ok(rolledBack[0]?.type === 'alert-raise' && /it last answered as gpt-4o-2024-11-20/.test(rolledBack[0].data.message));
});

test('a pin for a model the route does not list is refused at start, naming it', async () => {
  const config = join(folder, 'bad-pin.json');
  writeFileSync(config, JSON.stringify({ version: 1, routes: [{ name: 'answers', models: ['openai:gpt-4o'], pin: { 'openai:gpt-4o-mini': 'gpt-4o-mini-2024-07-18' } }] }));
  const result = await keel(['run', 'ask', '--input', '{"message":"hi"}', '--tasks', tasks, '--db', join(folder, 'other.db'), '--config', config], { KEEL_FIXTURE_MODEL: 'answers' });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^keel: error \[config-invalid\]: .*pin.*'openai:gpt-4o-mini' is not one of route answers's models/);
});
