/**
 * The gateway against a peer, side by side in one run, all three in front of the same loopback
 * upstream (bench/loopback-openai-server.ts, pinned to core 0):
 * - direct: the client calls the upstream itself;
 * - Portkey's open-source gateway (`@portkey-ai/gateway`, started here, no governance);
 * - `keel serve` with every policy armed: a virtual key (Cedar decides its models, a daily budget
 *   reserved before the call and settled after, requests-per-minute counted), a route with a
 *   per-tenant rate limit, a tenant-day budget with alert thresholds, and the journal on SQLite with
 *   durability full (fdatasync before the answer).
 * Each gateway runs alone, pinned to core 1 with taskset. Reported: added latency over direct at
 * p50 and p99 with 1 and 16 clients, requests/s with 16 clients, and the gateway's RSS after; keel
 * serve also with its heap kept compact (KEEL_SERVE_HEAP=compact), and with it capped by NODE_OPTIONS.
 * Run alone: node bench/gateway-bench.ts
 */
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Measure } from './journal-bench.ts';

const root = join(import.meta.dirname, '..');
const body = JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user', content: 'Where is my order A-1001?' }] });
const keelBody = JSON.stringify({ model: 'support', max_tokens: 64, messages: [{ role: 'user', content: 'Where is my order A-1001?' }] });

interface Target {
  name: string;
  port: number;
  headers: Record<string, string>;
  body: string;
  pid?: number;
}

/** V8 heap limits for a gateway in a container (the README's Gateway section recommends them). */
const leanHeapOptions = '--max-semi-space-size=8 --max-old-space-size=192';

const hasTaskset = spawnSync('taskset', ['--version']).status === 0;

function pinned(core: number, command: string[]): string[] {
  return hasTaskset ? ['taskset', '-c', String(core), ...command] : command;
}

/** Starts a process and resolves with the first match of `ready` in its output. */
function start(command: string[], ready: RegExp, environment: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const [program = '', ...args] = command;
  const child = spawn(program, args, { env: environment, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const look = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match !== null) resolve({ child, match });
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
    child.once('exit', (code) => reject(new Error(`${command.join(' ')} exited ${code} before it was ready: ${output.slice(-2000)}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function send(target: Target): Promise<number> {
  const began = performance.now();
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port: target.port, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', ...target.headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          if (response.statusCode !== 200) reject(new Error(`${target.name} answered ${response.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 500)}`));
          else resolve(performance.now() - began);
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(target.body);
  });
}

async function load(target: Target, clients: number, perClient: number): Promise<{ latencies: number[]; perSecond: number }> {
  const latencies: number[] = [];
  const began = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let index = 0; index < perClient; index += 1) latencies.push(await send(target));
    }),
  );
  return { latencies, perSecond: (clients * perClient * 1000) / (performance.now() - began) };
}

function percentile(values: readonly number[], share: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? 0;
}

/** CPU time (user + system) the process has used, in ms, from /proc; 0 when it cannot be read. */
function cpuMillis(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime, fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) * 10;
}

function residentMegabytes(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kilobytes = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kilobytes / 1024);
}

const round = (value: number, places = 2): number => Math.round(value * 10 ** places) / 10 ** places;

/**
 * This disk's fdatasync latency, measured beside the gateways: with durability full a request waits
 * for the WAL's fdatasync before the reservation's call and again before its answer, so this sets a
 * floor under Keel's added latency that no code change removes.
 */
function fdatasyncMillis(folder: string): number {
  const descriptor = openSync(join(folder, 'fdatasync.bin'), 'w');
  const times: number[] = [];
  try {
    for (let index = 0; index < 200; index += 1) {
      const began = performance.now();
      writeSync(descriptor, Buffer.alloc(4_096, index));
      fdatasyncSync(descriptor);
      times.push(performance.now() - began);
    }
  } finally {
    closeSync(descriptor);
  }
  return round(percentile(times, 0.5), 3);
}

export async function benchGateway(options: { requests?: number; only?: readonly string[] } = {}): Promise<Measure[]> {
  const requests = options.requests ?? 1_500;
  const only = options.only;
  const folder = mkdtempSync(join(tmpdir(), 'keel-bench-gateway-'));
  const children: ChildProcess[] = [];
  try {
    const upstream = await start(pinned(0, [process.execPath, join(root, 'bench', 'loopback-openai-server.ts')]), /^(\d+)\n/m, process.env);
    children.push(upstream.child);
    const upstreamPort = Number(upstream.match[1]);
    const direct: Target = { name: 'direct', port: upstreamPort, headers: { authorization: 'Bearer upstream' }, body };

    const portkeyPort = 18_000 + Math.floor(Math.random() * 2_000);
    const portkey = await start(
      pinned(1, [process.execPath, join(root, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js'), `--port=${portkeyPort}`, '--headless']),
      /Ready for connections/,
      { ...process.env, NODE_ENV: 'production' },
    );
    children.push(portkey.child);
    const portkeyTarget: Target = {
      name: 'portkey',
      port: portkeyPort,
      headers: { authorization: 'Bearer upstream', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `http://127.0.0.1:${upstreamPort}/v1` },
      body,
      ...(portkey.child.pid === undefined ? {} : { pid: portkey.child.pid }),
    };

    const database = join(folder, 'keel.db');
    const configPath = join(folder, 'keel.config.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        version: 1,
        prices: { version: 'bench-1', models: { 'openai-compatible:gpt-4o-mini': { inputPerMillion: 150_000, outputPerMillion: 600_000 } } },
        routes: [{ name: 'support', models: ['openai:gpt-4o-mini'], rateLimit: { perTenant: { limit: 1_000_000, windowMs: 60_000 } } }],
        budgets: [{ scope: 'tenant-day', micros: 1_000_000_000_000, alertAt: [0.5, 0.8, 1] }],
      }),
    );
    const keelEnvironment = { ...process.env, OPENAI_API_KEY: 'upstream', OPENAI_BASE_URL: `http://127.0.0.1:${upstreamPort}/v1`, KEEL_DB: database };
    const created = spawnSync(
      process.execPath,
      [join(root, 'bin', 'keel.js'), 'keys', 'create', '--tenant', 'acme', '--principal', 'bench', '--budget-micros', '1000000000000', '--per', 'day', '--rpm', '1000000', '--models', 'support', '--json'],
      { env: keelEnvironment, encoding: 'utf8' },
    );
    if (created.status !== 0) throw new Error(`keel keys create failed: ${created.stderr}`);
    const secret = (JSON.parse(created.stdout) as { secret: string }).secret;
    const keel = await start(pinned(1, [process.execPath, join(root, 'bin', 'keel.js'), 'serve', '--port', '0', '--config', configPath, '--require-keys']), /listening on http:\/\/127\.0\.0\.1:(\d+)/, keelEnvironment);
    children.push(keel.child);
    const keelTarget: Target = { name: 'keel', port: Number(keel.match[1]), headers: { authorization: `Bearer ${secret}` }, body: keelBody, ...(keel.child.pid === undefined ? {} : { pid: keel.child.pid }) };

    // The same gateway keeping its heap compact (KEEL_SERVE_HEAP=compact): by default V8 sizes its
    // young generation and lets garbage pile up by the machine's memory (24 GiB here), not by the process's needs.
    const compact = await start(pinned(1, [process.execPath, join(root, 'bin', 'keel.js'), 'serve', '--port', '0', '--config', configPath, '--require-keys']), /listening on http:\/\/127\.0\.0\.1:(\d+)/, {
      ...keelEnvironment,
      KEEL_SERVE_HEAP: 'compact',
    });
    children.push(compact.child);
    const compactTarget: Target = { ...keelTarget, name: 'keel-compact', port: Number(compact.match[1]), ...(compact.child.pid === undefined ? {} : { pid: compact.child.pid }) };

    // The same gateway with V8's heap capped by NODE_OPTIONS, as the README suggests for containers (keel serve then leaves the heap to them).
    const leanEnvironment = { ...keelEnvironment, NODE_OPTIONS: leanHeapOptions };
    const lean = await start(pinned(1, [process.execPath, join(root, 'bin', 'keel.js'), 'serve', '--port', '0', '--config', configPath, '--require-keys']), /listening on http:\/\/127\.0\.0\.1:(\d+)/, leanEnvironment);
    children.push(lean.child);
    const leanTarget: Target = { ...keelTarget, name: 'keel-lean', port: Number(lean.match[1]), ...(lean.child.pid === undefined ? {} : { pid: lean.child.pid }) };

    // The floor under any Node gateway (bench/floor-proxy.ts): a bare proxy, and one that syncs a
    // record to SQLite before the call and after it, as durability full must.
    const floorTargets: Target[] = [];
    for (const mode of ['bare', 'journal'] as const) {
      const floor = await start(pinned(1, [process.execPath, join(root, 'bench', 'floor-proxy.ts'), mode, String(upstreamPort), join(folder, 'floor.db')]), /^(\d+)\n/m, process.env);
      children.push(floor.child);
      floorTargets.push({ name: `floor-${mode}`, port: Number(floor.match[1]), headers: {}, body, ...(floor.child.pid === undefined ? {} : { pid: floor.child.pid }) });
    }

    const targets = [direct, ...floorTargets, portkeyTarget, keelTarget, compactTarget, leanTarget].filter((target) => only === undefined || target.name === 'direct' || only.includes(target.name));
    // Warm every path (JIT, connections, SQLite pages) before measuring.
    for (const target of targets) await load(target, 4, 100);

    const results = new Map<string, { c1: number[]; c16: number[]; perSecond: number; rss: number; cpuPerRequest: number }>();
    for (const target of targets) {
      const single = await load(target, 1, requests);
      const cpuBefore = cpuMillis(target.pid);
      const sixteen = await load(target, 16, Math.ceil(requests / 8));
      const cpuPerRequest = (cpuMillis(target.pid) - cpuBefore) / sixteen.latencies.length;
      results.set(target.name, { c1: single.latencies, c16: sixteen.latencies, perSecond: sixteen.perSecond, rss: residentMegabytes(target.pid), cpuPerRequest });
    }
    const base = results.get('direct');
    if (base === undefined) throw new Error('no direct measurement');
    const measures: Measure[] = [];
    const lines: string[] = [];
    for (const name of ['floor-bare', 'floor-journal', 'portkey', 'keel', 'keel-compact', 'keel-lean']) {
      const measured = results.get(name);
      if (measured === undefined) continue;
      const added = (latencies: number[], baseline: number[], share: number) => round(percentile(latencies, share) - percentile(baseline, share), 3);
      const figures = {
        c1p50: added(measured.c1, base.c1, 0.5),
        c1p99: added(measured.c1, base.c1, 0.99),
        c16p50: added(measured.c16, base.c16, 0.5),
        c16p99: added(measured.c16, base.c16, 0.99),
      };
      const labels: Record<string, string> = {
        keel: 'keel serve, every policy armed, SQLite full',
        'keel-compact': 'keel serve as keel, with its heap kept compact (KEEL_SERVE_HEAP=compact)',
        'keel-lean': `keel serve as keel, with NODE_OPTIONS=${leanHeapOptions}`,
        portkey: "Portkey's open-source gateway",
        'floor-bare': 'floor: a bare node:http proxy, no governance (bench/floor-proxy.ts)',
        'floor-journal': 'floor: the bare proxy syncing a SQLite record before and after the call',
      };
      const label = labels[name] ?? name;
      measures.push({ name: `gateway: ${label}, added latency p50 at c=1`, value: figures.c1p50, unit: 'ms', detail: `p99 +${figures.c1p99} ms; c=16 p50 +${figures.c16p50} ms, p99 +${figures.c16p99} ms; over direct (p50 ${round(percentile(base.c1, 0.5), 3)} ms)` });
      measures.push({ name: `gateway: ${label}, requests/s at c=16 on one pinned core`, value: round(measured.perSecond, 0), unit: 'req/s', detail: `direct ${round(base.perSecond, 0)} req/s; the gateway's CPU ${round(measured.cpuPerRequest, 3)} ms per request; RSS after ${measured.rss} MB` });
      lines.push(`  gateway ${name}: c=1 +${figures.c1p50} ms p50 / +${figures.c1p99} ms p99; c=16 +${figures.c16p50} / +${figures.c16p99} ms; ${round(measured.perSecond, 0)} req/s; CPU ${round(measured.cpuPerRequest, 3)} ms/request; RSS ${measured.rss} MB`);
    }
    const fsync = fdatasyncMillis(folder);
    measures.push({ name: 'gateway: fdatasync p50 on this disk, measured in the same run', value: fsync, unit: 'ms', detail: 'a request on SQLite full waits for it before the call (the reservation) and before the answer (the settlement)' });
    lines.push(`  fdatasync p50 on this disk: ${fsync} ms`);
    const keelRate = results.get('keel')?.perSecond ?? 0;
    const portkeyRate = results.get('portkey')?.perSecond ?? 1;
    measures.push({ name: 'gateway: keel serve requests/s over Portkey', value: round(keelRate / portkeyRate), unit: '×', detail: 'same upstream, same client, both pinned to one core, measured one after the other in this run' });
    // CPU per request moves less with the machine's load than requests/s: both sides in one run.
    const keelCpu = results.get('keel')?.cpuPerRequest ?? 0;
    const portkeyCpu = results.get('portkey')?.cpuPerRequest ?? 0;
    if (keelCpu > 0 && portkeyCpu > 0) {
      measures.push({ name: "gateway: keel serve's CPU per request over Portkey's, at c=16", value: round(keelCpu / portkeyCpu), unit: '×', detail: `keel ${round(keelCpu, 3)} ms, Portkey ${round(portkeyCpu, 3)} ms per request, user + system time from /proc, measured one after the other in this run` });
      lines.push(`  gateway keel/portkey CPU per request: ${round(keelCpu / portkeyCpu)}×`);
    }
    process.stdout.write(`${lines.join('\n')}\n  gateway keel/portkey requests/s: ${round(keelRate / portkeyRate)}×${hasTaskset ? '' : ' (taskset missing: not pinned)'}\n`);
    return measures;
  } finally {
    agent.destroy();
    for (const child of children.reverse()) await stop(child);
    rmSync(folder, { recursive: true, force: true });
  }
}

// Run alone, GATEWAY_BENCH_ONLY=floor-bare,keel measures just those beside direct.
if (process.argv[1] === fileURLToPath(import.meta.url)) await benchGateway(process.env.GATEWAY_BENCH_ONLY === undefined ? {} : { only: process.env.GATEWAY_BENCH_ONLY.split(',') });
