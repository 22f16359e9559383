import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

// The real `keel worker --metrics-port` with an OTLP endpoint: it serves runs another process
// enqueued, counts their ends on /metrics, and exports their spans to a real receiver.
const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const tasksModule = join(import.meta.dirname, '..', 'cli', 'fixtures', 'tasks.ts');
const folder = mkdtempSync(join(tmpdir(), 'keel-worker-telemetry-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(OPENAI_|ANTHROPIC_|KEEL_|OTEL_)/.test(name)));

test('keel worker --metrics-port counts the runs it ends and, with OTEL_EXPORTER_OTLP_ENDPOINT, sends their spans', async () => {
  const database = join(folder, 'keel.db');
  const runIds: string[] = [];
  for (const count of [1, 2]) {
    const queued = spawnSync(process.execPath, [launcher, 'run', 'durable-count', '--input', `{"count":${count}}`, '--enqueue', '--json', '--tasks', tasksModule, '--db', database], { encoding: 'utf8', env: environment });
    assert.equal(queued.status, 0, queued.stderr);
    runIds.push((JSON.parse(queued.stdout) as { runId: string }).runId);
  }

  const spans: { name: string; attributes: { key: string; value: { stringValue?: string } }[] }[] = [];
  let arrived: (() => void) | undefined;
  const allEnded = new Promise<void>((resolve) => (arrived = resolve));
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const decoded = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: typeof spans }[] }[] };
      for (const resource of decoded.resourceSpans) for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      if (spans.filter((span) => span.name === 'invoke_agent durable-count').length === runIds.length) arrived?.();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  const worker = spawn(process.execPath, [launcher, 'worker', '--tasks', tasksModule, '--db', database, '--metrics-port', '0'], {
    env: { ...environment, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '50' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  worker.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
  try {
    const metricsUrl = await new Promise<string>((resolve, reject) => {
      worker.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const found = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(stdout);
        if (found?.[1] !== undefined) resolve(found[1]);
      });
      void exited.then((code) => reject(new Error(`keel worker exited ${code}: ${stderr}`)));
    });
    await allEnded;
    // A run's end is counted once the run index has named its task: read until it shows, within 10 s.
    let text = '';
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 50))) {
      text = await (await fetch(metricsUrl)).text();
      if (/^keel_runs_ended_total\{task="durable-count",status="ok"\} 2$/m.test(text)) break;
    }
    // Enqueued by another process, ended here: the task comes from the run index.
    assert.match(text, /^keel_runs_ended_total\{task="durable-count",status="ok"\} 2$/m);
    assert.match(text, /^keel_run_duration_seconds_count\{task="durable-count",status="ok"\} 2$/m);
    assert.match(text, /^keel_escalations_waiting 0$/m);
    assert.equal((await fetch(metricsUrl.replace('/metrics', '/other'))).status, 404);
    const runSpans = spans.filter((span) => span.name === 'invoke_agent durable-count');
    assert.deepEqual(runSpans.map((span) => span.attributes.find((attribute) => attribute.key === 'keel.run.id')?.value.stringValue).sort(), [...runIds].sort());
    assert.equal(spans.filter((span) => span.name === 'step prepare').length, 2);
  } finally {
    worker.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
  receiver.closeAllConnections();
  receiver.close();
});
