/**
 * `keel serve` watches its gateway runs with the config's monitors: a request whose run a budget
 * refuses raises `budget-exhausted`, journaled in a `keel-monitor` run and delivered to the webhook.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadRun } from '../../src/journal/index.ts';
import { openStore } from '../../src/store/index.ts';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-serve-monitor-'));

after(() => rmSync(folder, { recursive: true, force: true }));

test('keel serve raises the fault alerts of the gateway runs it monitors', { timeout: 120_000 }, async () => {
  let heard: (body: Record<string, unknown>) => void = () => undefined;
  const alerted = new Promise<Record<string, unknown>>((resolve) => (heard = resolve));
  const hook = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const alert = JSON.parse(body) as Record<string, unknown>;
      if (alert.kind === 'budget-exhausted') heard(alert);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const config = join(folder, 'keel.json');
  const { port: hookPort } = hook.address() as AddressInfo;
  writeFileSync(
    config,
    JSON.stringify({ version: 1, routes: [], budgets: [{ scope: 'run', micros: 1 }], monitors: [{ task: 'gateway:sim:default' }], alerts: { webhooks: [`http://127.0.0.1:${hookPort}/hook`] } }),
  );
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, ...environment } = process.env;
  const serve = spawn(process.execPath, [launcher, 'serve', '--port', '0', '--db', 'keel.db', '--config', config], { cwd: folder, env: { ...environment, NO_COLOR: '1' } });
  let output = '';
  let listening: (url: string) => void = () => undefined;
  const url = new Promise<string>((resolve) => (listening = resolve));
  serve.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    const found = /keel gateway listening on (http:\/\/\S+):/.exec(output);
    if (found?.[1] !== undefined) listening(found[1]);
  });
  serve.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => serve.once('close', resolve));
  let alert: Record<string, unknown>;
  try {
    const base = await Promise.race([url, exited.then(() => assert.fail(`keel serve exited:\n${output}`))]);
    const response = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim:default', messages: [{ role: 'user', content: 'Hello' }] }),
    });
    assert.ok(response.status >= 400, `the budget refuses the call: ${response.status}`);
    await response.body?.cancel();
    alert = await alerted;
  } finally {
    serve.kill('SIGTERM');
    hook.close();
  }
  assert.equal(await exited, 0, output);
  assert.equal(alert.scope, 'task:gateway:sim:default');
  const store = await openStore({ database: join(folder, 'keel.db'), create: false, environment: {} });
  try {
    const { events } = await loadRun(store, alert.runId as string);
    assert.ok(events[0]?.type === 'run-start' && events[0].data.task === 'keel-monitor');
    assert.ok(events.some((event) => event.type === 'alert-raise' && event.data.kind === 'budget-exhausted' && event.data.about === alert.about));
    const about = await store.getRun(alert.about as string);
    assert.equal(about?.task, 'gateway:sim:default');
  } finally {
    await store.close();
  }
});
