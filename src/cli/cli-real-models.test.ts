import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AnthropicWireServer, OpenAIWireServer } from '../models/testing/index.ts';
import { runCli } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-cli-real-'));
after(() => rmSync(folder, { recursive: true, force: true }));

async function keel(environment: NodeJS.ProcessEnv, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { output: { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) }, environment, colour: false });
  return { code, stdout, stderr };
}

interface DemoJson {
  model: string;
  runs: { status: string; answer: string | null; reason: string | null; costMicros: number; tokens: number }[];
}

test('keel demo --model openai:MODEL talks to an OpenAI wire-format server, retries its 429, asks for the contract JSON, and prices the usage', async () => {
  const server = await OpenAIWireServer.start();
  try {
    server.reply({ fixture: 'error-rate-limit.json', status: 429, headers: { 'retry-after': '0' } });
    // The server answers prose where the output contract asks for JSON: each run re-asks once, then goes to a person.
    for (let call = 0; call < 10; call += 1) server.reply({ fixture: 'chat-text.json' });
    const environment = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.baseURL };
    // A server at a custom base URL is `openai-compatible`, free unless priced: price it like gpt-4o.
    const config = join(folder, 'priced.json');
    const price = { inputPerMillion: 2_500_000, cachedInputPerMillion: 1_250_000, outputPerMillion: 10_000_000 };
    writeFileSync(config, JSON.stringify({ version: 1, prices: { version: 'test-1', models: { 'openai-compatible:gpt-4o': price } }, routes: [] }));
    const result = await keel(environment, 'demo', '--model', 'openai:gpt-4o', '--config', config, '--db', join(folder, 'openai.db'), '--json');
    assert.equal(result.code, 0, result.stderr);
    const demo = JSON.parse(result.stdout) as DemoJson;
    assert.deepEqual(demo.runs.map((run) => run.status), ['escalated', 'escalated', 'escalated', 'escalated', 'escalated']);
    assert.match(demo.runs[0]?.reason ?? '', /final answer broke its output contract/);
    // Two answers a run, each 158 uncached + 1,152 cached prompt tokens and 8 completion tokens at gpt-4o prices.
    assert.ok(demo.runs.every((run) => run.costMicros === 2 * 1_915), JSON.stringify(demo.runs.map((run) => run.costMicros)));
    assert.equal(server.requests.length, 11);
    assert.equal(server.requests[1]?.headers.authorization, 'Bearer sk-test');
    const body = server.requests[1]?.body as { model: string; messages: { role: string }[]; tools: unknown[]; response_format: { type: string; json_schema: { name: string } } };
    assert.equal(body.model, 'gpt-4o');
    assert.equal(body.messages[0]?.role, 'system');
    assert.equal(body.tools.length, 3);
    assert.equal(body.response_format.type, 'json_schema');
    assert.equal(body.response_format.json_schema.name, 'support-answer');
  } finally {
    await server.close();
  }
});

test('keel demo --model anthropic:MODEL talks to an Anthropic wire-format server', async () => {
  const server = await AnthropicWireServer.start();
  try {
    for (let call = 0; call < 10; call += 1) server.reply({ fixture: 'message-text.json' });
    const environment = { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: server.baseURL };
    const result = await keel(environment, 'demo', '--model', 'anthropic:claude-sonnet-4-5', '--db', join(folder, 'anthropic.db'), '--json');
    assert.equal(result.code, 0, result.stderr);
    const demo = JSON.parse(result.stdout) as DemoJson;
    // Prose where JSON is asked for: one repair, then a person.
    assert.deepEqual(demo.runs.map((run) => run.status), ['escalated', 'escalated', 'escalated', 'escalated', 'escalated']);
    assert.ok(demo.runs.every((run) => run.tokens === 2 * 24 && run.costMicros > 0));
  } finally {
    await server.close();
  }
});

test('a real provider without its key fails at start, naming the variable, before anything is written', async () => {
  const result = await keel({}, 'demo', '--model', 'anthropic:claude-sonnet-4-5', '--db', join(folder, 'nokey.db'));
  assert.equal(result.code, 1);
  assert.equal(result.stderr, 'keel: error [config-invalid]: ANTHROPIC_API_KEY is not set (needed for model anthropic:claude-sonnet-4-5)\n');
});
