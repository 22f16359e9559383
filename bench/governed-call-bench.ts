/**
 * The latency a governed call adds over the official `openai` SDK calling the same loopback server
 * directly, at c=1 and c=16, p50 and p99 (the SDK as Keel configures it: its transport is Keel's
 * providerFetch, so the difference is Keel's governance, not the transport); what that transport
 * saves over the SDK's default, the global fetch, in CPU per call; and the heap after GC before and after 100,000 governed
 * calls (in a child process with --expose-gc). Keel's side is the real path: `context.model()` in
 * durable runs on SQLite (durability full), an `openai:` route with every policy armed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { BudgetLedger, defaultPriceTable, LatencyTracker } from '../src/cost/index.ts';
import { defineTask, Engine } from '../src/engine/index.ts';
import type { Alert, RouteConfig } from '../src/models/index.ts';
import { GovernedModel, providerFetch, resolveModel, SharedGuards } from '../src/models/index.ts';
import type { MessageV1 } from '../src/spec/index.ts';
import { SqliteStore } from '../src/store/index.ts';
import type { Measure } from './journal-bench.ts';
import { realisticRequest } from './model-call-bench.ts';

const taskName = 'bench-openai-call';

export interface LoopbackServer {
  baseURL: string;
  stop: () => void;
}

/** Starts bench/loopback-openai-server.ts in its own process. */
export async function startLoopbackServer(): Promise<LoopbackServer> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'loopback-openai-server.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the loopback server exited ${code}`)));
    child.stdout.setEncoding('utf8').once('data', (text: string) => resolve(Number(text.trim())));
  });
  child.removeAllListeners('exit');
  return { baseURL: `http://127.0.0.1:${port}/v1`, stop: () => child.stdin.end() };
}

/** An `openai:` route with every policy armed, limits no call comes near; both models on the loopback server. */
export function openAIRoute(baseURL: string): { model: GovernedModel; alerts: Alert[] } {
  const environment = { OPENAI_BASE_URL: baseURL, OPENAI_API_KEY: 'bench' };
  const route: RouteConfig = {
    name: 'bench-openai',
    models: ['openai:gpt-4o-mini', 'openai:gpt-4o'],
    strategy: 'cheapest',
    rules: [
      { when: { tier: 'simple' }, use: 'openai:gpt-4o-mini' },
      { when: { tools: true, minInputTokens: 200, maxInputTokens: 100_000 }, use: 'openai:gpt-4o-mini', reason: 'tool-using turns go to the small model' },
    ],
    maxOutputTokens: 400,
    resilience: {
      maxAttempts: 3,
      initialDelayMs: 200,
      maxDelayMs: 5_000,
      attemptTimeoutMs: 30_000,
      breaker: { consecutiveFailures: 5, halfOpenAfterMs: 10_000 },
      bulkhead: { maxConcurrent: 64, maxQueued: 512 },
    },
    onBudgetExceeded: 'downgrade',
  };
  const huge = 1_000_000_000_000;
  const ledger = new BudgetLedger([
    { scope: 'run', micros: huge, tokens: huge, alertAt: [0.5, 0.8, 1] },
    { scope: 'task', match: taskName, micros: huge, alertAt: [0.5, 0.8, 1] },
    { scope: 'tenant', micros: huge, tokens: huge, alertAt: [0.8, 1] },
    { scope: 'tenant-day', micros: huge, alertAt: [0.5, 0.9] },
  ]);
  const alerts: Alert[] = [];
  const models = new Map(route.models.map((name) => [name, resolveModel(name, { environment })]));
  const model = new GovernedModel(route, {
    resolveModel: (name) => {
      const found = models.get(name);
      if (found === undefined) throw new Error(`bench route names an unknown model ${name}`);
      return found;
    },
    prices: defaultPriceTable,
    guards: new SharedGuards(),
    ledger,
    latency: new LatencyTracker([{ task: taskName, p95Ms: 5_000, window: 50 }]),
    alertHooks: [(alert) => void alerts.push(alert)],
  });
  return { model, alerts };
}

/** Runs durable runs of `calls` governed calls each, `concurrency` at a time; `sink` gets each call's latency in µs. */
export function governedRunner(store: SqliteStore, model: GovernedModel): (runs: number, calls: number, sink?: number[]) => Promise<void> {
  let sink: number[] | undefined;
  const task = defineTask({
    name: taskName,
    version: '1',
    run: async (context, input) => {
      const calls = (input as { calls: number }).calls;
      for (let index = 0; index < calls; index += 1) {
        // Each call a new turn after the shared prefix, as in an agent loop.
        const turn: MessageV1 = { role: 'user', content: [{ type: 'text', text: `Follow-up ${index}: and what about the shipping cost?` }] };
        const began = performance.now();
        const result = await context.model('answer', model, { ...realisticRequest, messages: [...realisticRequest.messages, turn] });
        sink?.push((performance.now() - began) * 1000);
        if (result.content[0]?.type !== 'text') throw new Error(`unexpected answer: ${JSON.stringify(result.content)}`);
      }
      return calls;
    },
  });
  const engine = new Engine({ store, tasks: [task] });
  return async (runs, calls, samples) => {
    sink = samples;
    const outcomes = await Promise.all(Array.from({ length: runs }, (_, index) => engine.start(taskName, { calls }, { principal: 'bench', tenant: `tenant-${index % 4}` })));
    for (const outcome of outcomes) if (outcome.status !== 'ok') throw new Error(`bench run ended ${outcome.status}: ${JSON.stringify(outcome)}`);
  };
}

const percentile = (values: number[], fraction: number): number => {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] as number;
};

export async function benchGovernedCall(options: { heapCalls?: number } = {}): Promise<Measure[]> {
  const heapCalls = options.heapCalls ?? 100_000;
  const measures: Measure[] = [];
  const server = await startLoopbackServer();
  const folder = mkdtempSync(join(tmpdir(), 'keel-bench-openai-'));
  const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'full' });
  try {
    const { model, alerts } = openAIRoute(server.baseURL);
    const governed = governedRunner(store, model);
    await governed(1, 50);
    // The SDK sends exactly the body Keel sent for the same turn.
    const body = (await (await fetch(server.baseURL.replace(/\/v1$/, '/last-request'))).json()) as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const client = new OpenAI({ apiKey: 'bench', baseURL: server.baseURL, maxRetries: 0, fetch: providerFetch });
    const withGlobalFetch = new OpenAI({ apiKey: 'bench', baseURL: server.baseURL, maxRetries: 0 });
    const direct = async (calls: number, sink?: number[], sdk = client) => {
      for (let index = 0; index < calls; index += 1) {
        const began = performance.now();
        const completion = await sdk.chat.completions.create(body);
        sink?.push((performance.now() - began) * 1000);
        if (completion.choices[0]?.message.content === undefined) throw new Error('unexpected answer from the loopback server');
      }
    };
    await direct(200);
    await direct(200, undefined, withGlobalFetch);
    await governed(1, 200);
    {
      // The transport alone: the same SDK call with the global fetch and with providerFetch, 16 at a time, alternating.
      const used = { global: 0, provider: 0 };
      for (let round = 0; round < 3; round += 1) {
        for (const [side, sdk] of [
          ['global', withGlobalFetch],
          ['provider', client],
        ] as const) {
          const before = process.cpuUsage();
          await Promise.all(Array.from({ length: 16 }, () => direct(100, undefined, sdk)));
          const spent = process.cpuUsage(before);
          used[side] += spent.user + spent.system;
        }
      }
      const perCall = (micros: number) => Math.round(micros / (3 * 16 * 100));
      const detail = `CPU time of this process per openai SDK call, 16 at a time, 4,800 calls each, alternating: global fetch ${perCall(used.global)} µs, providerFetch ${perCall(used.provider)} µs`;
      measures.push({ name: "transport: CPU per openai SDK call with Keel's providerFetch over the global fetch", value: Math.round((used.provider / used.global) * 100) / 100, unit: '×', detail });
      process.stdout.write(`  transport: providerFetch over global fetch, CPU per call: ${Math.round((used.provider / used.global) * 100) / 100}×  (${detail})\n`);
    }
    for (const [concurrency, perRun, rounds] of [
      [1, 400, 5],
      [16, 100, 3],
    ] as const) {
      const sdk: number[] = [];
      const keel: number[] = [];
      // This process's CPU time per call on each side (the server's is in its own process): less
      // sensitive than latency to other work on the machine.
      const cpu = { sdk: 0, keel: 0 };
      const cpuMicros = async (work: () => Promise<unknown>): Promise<number> => {
        const before = process.cpuUsage();
        await work();
        const used = process.cpuUsage(before);
        return used.user + used.system;
      };
      // Alternating blocks, so drift in the machine's load touches both sides alike.
      for (let round = 0; round < rounds; round += 1) {
        cpu.sdk += await cpuMicros(() => Promise.all(Array.from({ length: concurrency }, () => direct(perRun, sdk))));
        cpu.keel += await cpuMicros(() => governed(concurrency, perRun, keel));
      }
      const calls = rounds * concurrency * perRun;
      const addedCpu = (cpu.keel - cpu.sdk) / calls;
      const cpuDetail = `CPU time of this process per call: governed ${Math.round(cpu.keel / calls)} µs vs the openai SDK alone ${Math.round(cpu.sdk / calls)} µs (${calls} calls each, ${concurrency} at a time; run start and end included on Keel's side)`;
      measures.push({ name: `governed call: added CPU per call over the openai SDK, c=${concurrency}`, value: Math.round(addedCpu), unit: 'µs', detail: cpuDetail });
      process.stdout.write(`  governed call: added CPU per call, c=${concurrency}: ${Math.round(addedCpu)} µs  (${cpuDetail})\n`);
      for (const [label, fraction] of [
        ['p50', 0.5],
        ['p99', 0.99],
      ] as const) {
        const sdkValue = percentile(sdk, fraction);
        const keelValue = percentile(keel, fraction);
        const detail = `governed ${Math.round(keelValue)} µs vs the openai SDK alone ${Math.round(sdkValue)} µs (${sdk.length} calls each, ${concurrency} at a time, alternating blocks); route of 2 openai: models, budgets (run, task, tenant, tenant-day), SLA, retries, timeout, breaker, bulkhead; context.model() in durable runs on SQLite, durability full`;
        measures.push({ name: `governed call: added latency over the openai SDK, c=${concurrency}, ${label}`, value: Math.round(keelValue - sdkValue), unit: 'µs', detail });
        process.stdout.write(`  governed call: added latency, c=${concurrency}, ${label}: ${Math.round(keelValue - sdkValue)} µs  (${detail})\n`);
      }
    }
    if (alerts.length > 0) throw new Error(`the benchmark raised alerts: ${JSON.stringify(alerts)}`);
    if (heapCalls > 0) measures.push(...(await heapOverCalls(server.baseURL, heapCalls)));
  } finally {
    await store.close();
    rmSync(folder, { recursive: true, force: true });
    server.stop();
  }
  return measures;
}

/** Heap after GC, before and after `calls` governed calls, in a child process started with --expose-gc. */
async function heapOverCalls(baseURL: string, calls: number): Promise<Measure[]> {
  const child = spawn(process.execPath, ['--expose-gc', '--conditions=keel-source', join(import.meta.dirname, 'heap-child.ts'), baseURL, String(calls)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the heap benchmark exited ${code}: ${output}`);
  const report = JSON.parse(output) as { warmupCalls: number; beforeBytes: number; afterBytes: number; calls: number; seconds: number };
  const megabytes = (bytes: number) => Math.round(bytes / 10_485.76) / 100;
  const detail = `heapUsed after GC: ${megabytes(report.beforeBytes)} MB after a ${report.warmupCalls.toLocaleString('en-US')}-call warm-up, ${megabytes(report.afterBytes)} MB after ${report.calls.toLocaleString('en-US')} more governed calls (16 durable runs at a time, 100 calls each, SQLite full; ${Math.round(report.calls / report.seconds).toLocaleString('en-US')} calls/s)`;
  process.stdout.write(`  governed call: heap growth over ${report.calls.toLocaleString('en-US')} calls: ${megabytes(report.afterBytes - report.beforeBytes)} MB  (${detail})\n`);
  return [
    { name: 'governed call: heap after GC, before the calls', value: megabytes(report.beforeBytes), unit: 'MB', detail: `after a ${report.warmupCalls.toLocaleString('en-US')}-call warm-up` },
    { name: `governed call: heap after GC, after ${report.calls.toLocaleString('en-US')} calls`, value: megabytes(report.afterBytes), unit: 'MB', detail },
  ];
}
