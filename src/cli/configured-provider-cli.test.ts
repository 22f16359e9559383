import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from './index.ts';

// The commands that take a candidate model resolve it as the deployment does: a provider the
// config names is one a `--model` may be of.
const folder = mkdtempSync(join(tmpdir(), 'keel-cli-providers-'));
const database = join(folder, 'keel.db');
const configPath = join(folder, 'keel.config.json');
after(() => rmSync(folder, { recursive: true, force: true }));

async function keel(argv: string[], environment: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    output: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) },
    environment: { KEEL_DB: database, ...environment },
    colour: false,
  });
  return { code, stdout, stderr };
}

before(async () => {
  writeFileSync(configPath, JSON.stringify({ version: 1, providers: { vllm: { api: 'openai-chat', baseURL: 'http://127.0.0.1:9/v1', apiKeyEnv: 'VLLM_API_KEY' } }, routes: [] }));
  // A database to replay in: replay and eval open an existing one.
  const recorded = await keel(['demo', '--count', '1', '--json']);
  assert.equal(recorded.code, 0, recorded.stderr);
});

test("keel replay --model NAME:model resolves the config's provider: its key variable is what is missing, then what is asked", async () => {
  const missing = await keel(['replay', 'run_nope', '--model', 'vllm:llama-3.1-8b', '--config', configPath]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /VLLM_API_KEY is not set \(needed for model vllm:llama-3\.1-8b: provider vllm's apiKeyEnv\)/);
  // With the key the candidate resolves, and the run is what is not found.
  const keyed = await keel(['replay', 'run_nope', '--model', 'vllm:llama-3.1-8b', '--config', configPath], { VLLM_API_KEY: 'vllm-secret' });
  assert.notEqual(keyed.code, 0);
  assert.doesNotMatch(keyed.stderr, /vllm|unknown provider/);
  assert.match(keyed.stderr, /run_nope/, keyed.stderr);
});

test('keel eval run --model NAME:model checks it against the config before anything else', async () => {
  const missing = await keel(['eval', 'run', '--dataset', 'none', '--model', 'vllm:llama-3.1-8b', '--config', configPath]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /VLLM_API_KEY is not set \(needed for model vllm:llama-3\.1-8b: provider vllm's apiKeyEnv\)/);
  const unknown = await keel(['eval', 'run', '--dataset', 'none', '--model', 'groq:llama-3.1-8b', '--config', configPath]);
  assert.match(unknown.stderr, /unknown provider 'groq' \(known: sim, openai, openai-responses, anthropic, vllm\)/);
});
