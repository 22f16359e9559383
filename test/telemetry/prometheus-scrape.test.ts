import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../../src/store/index.ts';

// A real Prometheus server (Debian's package) scrapes a real `keel serve`; PromQL over what it
// scraped must agree with the journal's own counts in the store.
const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-prometheus-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(folder, { recursive: true, force: true });
});
const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(OPENAI_|ANTHROPIC_|KEEL_|OTEL_)/.test(name)));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls observable state (never a fixed sleep) until `check` returns a value, or fails after `timeoutMs`. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 25_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function promql(base: string, query: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const response = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  assert.equal(body.status, 'success');
  return body.data.result;
}

test('Prometheus scrapes keel serve, and PromQL over the scrape matches the journal: runs by task and status, tokens, cost', async () => {
  const database = join(folder, 'keel.db');
  const serve = spawn(process.execPath, [launcher, 'serve', '--port', '0', '--db', database], { env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(serve);
  let stdout = '';
  let stderr = '';
  serve.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const serveExited = new Promise<number | null>((resolve) => serve.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    serve.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const found = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (found?.[1] !== undefined) resolve(found[1]);
    });
    void serveExited.then((code) => reject(new Error(`keel serve exited ${code} before listening: ${stderr}`)));
  });

  // Calls on two routes, each one run of task gateway:<model>.
  const calls = [
    { model: 'sim:default', max_tokens: 64 },
    { model: 'sim:default', max_tokens: 64 },
    { model: 'sim:default', max_tokens: 64 },
    { model: 'sim:fast', max_tokens: 64 },
    { model: 'sim:fast', max_tokens: 64 },
  ];
  for (const [index, call] of calls.entries()) {
    const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...call, messages: [{ role: 'user', content: `call ${index}` }] }) });
    assert.equal(response.status, 200, await response.text());
  }

  const prometheusPort = await freePort();
  const target = new URL(url).host;
  const configFile = join(folder, 'prometheus.yml');
  writeFileSync(configFile, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: keel\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['${target}']\n`);
  const prometheus = spawn('/usr/bin/prometheus', [`--config.file=${configFile}`, `--storage.tsdb.path=${join(folder, 'tsdb')}`, `--web.listen-address=127.0.0.1:${prometheusPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(prometheus);
  let prometheusLog = '';
  prometheus.stderr.on('data', (chunk: Buffer) => (prometheusLog = (prometheusLog + chunk.toString()).slice(-4_000)));
  const prometheusExited = new Promise<number | null>((resolve) => prometheus.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${prometheusPort}`;
  try {
    await until(`the keel target to be up (${prometheusLog})`, async () => {
      const response = await fetch(`${base}/api/v1/targets`);
      const body = (await response.json()) as { data: { activeTargets: { health: string; scrapeUrl: string }[] } };
      return body.data.activeTargets.some((entry) => entry.health === 'up' && entry.scrapeUrl === `${url}/metrics`) ? true : undefined;
    });
    // Scraped after every call ended: the total is there.
    await until('a scrape with every run ended', async () => {
      const [total] = await promql(base, 'sum(keel_runs_ended_total)');
      return total !== undefined && Number(total.value[1]) === calls.length ? true : undefined;
    });

    const store = await openStore({ database, create: false, readOnly: true, environment: {} });
    let runs;
    try {
      runs = await store.listRuns({ limit: 1_000 });
    } finally {
      await store.close();
    }
    const journalCounts = new Map<string, number>();
    for (const run of runs) journalCounts.set(`${run.task} ${run.status}`, (journalCounts.get(`${run.task} ${run.status}`) ?? 0) + 1);
    const scraped = await promql(base, 'sum by (task, status) (keel_runs_ended_total)');
    assert.deepEqual(new Map(scraped.map((sample) => [`${sample.metric.task} ${sample.metric.status}`, Number(sample.value[1])])), journalCounts);
    assert.deepEqual([...journalCounts.keys()].sort(), ['gateway:sim:default ok', 'gateway:sim:fast ok']);

    const [started] = await promql(base, 'sum(keel_runs_started_total)');
    assert.equal(Number(started?.value[1]), runs.length);
    const [input] = await promql(base, 'sum(keel_model_tokens_total{direction="input"})');
    assert.equal(Number(input?.value[1]), runs.reduce((sum, run) => sum + run.inputTokens, 0));
    const [output] = await promql(base, 'sum(keel_model_tokens_total{direction="output"})');
    assert.equal(Number(output?.value[1]), runs.reduce((sum, run) => sum + run.outputTokens, 0));
    const [cost] = await promql(base, 'sum(keel_model_cost_micro_usd_total)');
    assert.equal(Number(cost?.value[1]), runs.reduce((sum, run) => sum + run.costMicros, 0));
    const calledRoutes = await promql(base, 'sum by (route) (keel_model_calls_total{outcome="ok"})');
    assert.deepEqual(Object.fromEntries(calledRoutes.map((sample) => [sample.metric.route, Number(sample.value[1])])), { 'sim:default': 3, 'sim:fast': 2 });
    const [latency] = await promql(base, 'sum(keel_model_call_duration_seconds_count)');
    assert.equal(Number(latency?.value[1]), calls.length);
    const [waiting] = await promql(base, 'keel_escalations_waiting');
    assert.equal(Number(waiting?.value[1]), 0);
  } finally {
    prometheus.kill('SIGTERM');
    serve.kill('SIGTERM');
  }
  assert.equal(await serveExited, 0, stderr);
  assert.equal(await prometheusExited, 0, prometheusLog);
});
