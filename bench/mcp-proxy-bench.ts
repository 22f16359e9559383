/**
 * What `keel mcp-proxy` adds to an MCP tool call, measured side by side (rounds interleaved, so
 * drift of the machine hits both alike) with the official SDK client over stdio:
 *   - direct: the client talks to the upstream MCP server process itself (the baseline);
 *   - proxied: the client talks to the real `keel mcp-proxy` process, which decides each call
 *     (Cedar, flow labels, schema, rate limit), journals it in the session's run on SQLite
 *     (durability full: a write's step start is fsynced before the upstream is called) and
 *     forwards it to its own process of the same upstream.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Measure } from './journal-bench.ts';

const root = join(import.meta.dirname, '..');
const upstream = join(root, 'test', 'mcp-proxy', 'fixtures', 'notes-server.ts');

const median = (values: number[]): number => {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const round1 = (value: number): number => Math.round(value * 10) / 10;

export async function benchMcpProxy(options: { callsPerRound?: number; rounds?: number } = {}): Promise<Measure[]> {
  const { callsPerRound = 100, rounds = 7 } = options;
  const folder = mkdtempSync(join(tmpdir(), 'keel-bench-mcp-proxy-'));
  mkdirSync(join(folder, 'policies'));
  writeFileSync(join(folder, 'policies', 'keel.cedarschema'), readFileSync(join(root, 'policies', 'keel.cedarschema')));
  writeFileSync(join(folder, 'policies', 'proxy.cedar'), '@id("proxy-tools-permitted")\npermit (principal, action == Action::"call-tool", resource is Tool);\n');
  const config = join(folder, 'keel.config.json');
  writeFileSync(
    config,
    JSON.stringify({
      version: 1,
      routes: [],
      mcpProxy: {
        servers: { notes: { command: process.execPath, args: [upstream] } },
        tools: { 'notes.read_note': { sideEffect: 'read' }, 'notes.write_note': { sideEffect: 'write', rateLimit: { perTenant: { limit: 1_000_000, windowMs: 60_000 } } } },
        policies: 'policies',
      },
    }),
  );
  const environment = { ...getDefaultEnvironment(), NO_COLOR: '1' };
  const direct = new Client({ name: 'bench-direct', version: '1' });
  await direct.connect(new StdioClientTransport({ command: process.execPath, args: [upstream], env: environment, stderr: 'ignore' }));
  const proxied = new Client({ name: 'bench-proxied', version: '1' });
  await proxied.connect(
    new StdioClientTransport({ command: process.execPath, args: [join(root, 'bin', 'keel.js'), 'mcp-proxy', '--config', config, '--db', join(folder, 'keel.db')], env: environment, stderr: 'ignore' }),
  );
  try {
    let written = 0;
    const timeCalls = (client: Client, tool: 'read' | 'write', prefix: string) => async () => {
      const began = performance.now();
      for (let call = 0; call < callsPerRound; call += 1) {
        const name = `${prefix}${tool === 'read' ? 'read_note' : 'write_note'}`;
        const result = await client.callTool({ name, arguments: tool === 'read' ? { name: 'welcome' } : { name: `note-${(written += 1)}`, text: 'benchmark' } });
        if (result.isError === true) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
      }
      return ((performance.now() - began) * 1000) / callsPerRound;
    };
    const contenders = {
      directRead: timeCalls(direct, 'read', ''),
      proxiedRead: timeCalls(proxied, 'read', 'notes__'),
      directWrite: timeCalls(direct, 'write', ''),
      proxiedWrite: timeCalls(proxied, 'write', 'notes__'),
    };
    for (const measure of Object.values(contenders)) await measure(); // warm-up (and the session's run opens)
    const samples = Object.fromEntries(Object.keys(contenders).map((name) => [name, [] as number[]])) as Record<keyof typeof contenders, number[]>;
    for (let round = 0; round < rounds; round += 1) for (const [name, measure] of Object.entries(contenders)) samples[name as keyof typeof contenders].push(await measure());
    const [directRead, proxiedRead, directWrite, proxiedWrite] = [median(samples.directRead), median(samples.proxiedRead), median(samples.directWrite), median(samples.proxiedWrite)];
    const detail = `official SDK client over stdio, ${callsPerRound} sequential calls a round, median of ${rounds} interleaved rounds`;
    const measures: Measure[] = [
      { name: 'mcp-proxy: read call, client → upstream directly (baseline)', value: round1(directRead), unit: 'µs/call', detail },
      { name: 'mcp-proxy: read call through keel mcp-proxy', value: round1(proxiedRead), unit: 'µs/call', detail: `${detail}; Cedar, flow, schema, journaled on SQLite; ${round1(proxiedRead / directRead)}× direct` },
      { name: 'mcp-proxy: write call, client → upstream directly (baseline)', value: round1(directWrite), unit: 'µs/call', detail },
      {
        name: 'mcp-proxy: write call through keel mcp-proxy',
        value: round1(proxiedWrite),
        unit: 'µs/call',
        detail: `${detail}; plus a rate limit on the store and the step start fsynced before the upstream (durability full); ${round1(proxiedWrite / directWrite)}× direct`,
      },
    ];
    for (const measure of measures) process.stdout.write(`  ${measure.name}: ${measure.value} ${measure.unit}  (${measure.detail})\n`);
    return measures;
  } finally {
    await direct.close();
    await proxied.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

if (import.meta.main) await benchMcpProxy();
