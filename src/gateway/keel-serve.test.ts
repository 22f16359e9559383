import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

// The real `keel serve` process, the real clients, then `keel runs` reading what it journaled.
const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-serve-'));
after(() => rmSync(folder, { recursive: true, force: true }));

// No provider keys reach the child: it can serve only the simulator.
const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(OPENAI_|ANTHROPIC_|KEEL_)/.test(name)));

test('keel serve answers both clients, each call a run that keel runs lists with tokens and cost, and stops on SIGTERM', async () => {
  const database = join(folder, 'keel.db');
  const child = spawn(process.execPath, [launcher, 'serve', '--port', '0', '--db', database], { env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (found?.[1] !== undefined) resolve(found[1]);
    });
    void exited.then((code) => reject(new Error(`keel serve exited ${code} before listening: ${stderr}`)));
  });
  try {
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'not-checked-yet', maxRetries: 0 });
    const completion = await openai.chat.completions.create({ model: 'sim:default', messages: [{ role: 'user', content: 'Hello from the OpenAI client' }] });
    assert.equal(completion.choices[0]?.message.content, 'Acknowledged: Hello from the OpenAI client');
    const anthropic = new Anthropic({ baseURL: url, apiKey: 'not-checked-yet', maxRetries: 0 });
    const message = await anthropic.messages.stream({ model: 'sim:fast', max_tokens: 128, messages: [{ role: 'user', content: 'Hello from the Anthropic client' }] }).finalMessage();
    assert.deepEqual(message.content, [{ type: 'text', text: 'Acknowledged: Hello from the Anthropic client' }]);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
  assert.match(stdout, /keel gateway stopped/);

  const listed = spawnSync(process.execPath, [launcher, 'runs', '--json', '--db', database], { encoding: 'utf8', env: environment });
  assert.equal(listed.status, 0, listed.stderr);
  const runs = (JSON.parse(listed.stdout) as { runs: { task: string; status: string; tokens: { input: number; output: number }; costMicros: number }[] }).runs;
  assert.deepEqual(runs.map((run) => [run.task, run.status]).sort(), [['gateway:sim:default', 'ok'], ['gateway:sim:fast', 'ok']]);
  for (const run of runs) {
    assert.ok(run.tokens.input > 0 && run.tokens.output > 0, JSON.stringify(run));
    assert.ok(run.costMicros > 0, JSON.stringify(run));
  }
});

// Without the config's 200 ms, the default header timeout (20 s) would outlast the test's 10 s.
test("keel serve takes its limits from the config's gateway section: headers slower than headersTimeoutMs get a 408", { timeout: 10_000 }, async () => {
  const configPath = join(folder, 'limits.config.json');
  writeFileSync(configPath, JSON.stringify({ version: 1, routes: [], gateway: { headersTimeoutMs: 200, requestTimeoutMs: 400 } }));
  const child = spawn(process.execPath, [launcher, 'serve', '--port', '0', '--db', join(folder, 'limits.db'), '--config', configPath], { env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const found = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
        if (found?.[1] !== undefined) resolve(Number(found[1]));
      });
      void exited.then((code) => reject(new Error(`keel serve exited ${code} before listening: ${stderr}`)));
    });
    // Half a request line, then nothing: the server answers once the header timeout has passed, and closes.
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', () => undefined);
    socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: gate');
    await new Promise((resolve) => socket.once('close', resolve));
    assert.match(answer, /^HTTP\/1\.1 408 /);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
});
