/**
 * `npm run bench`: runs every benchmark, prints it, and writes bench/results/. Name sections to run
 * only those (`npm run bench -- cli verify`); the results files are written only by a full run.
 * Sections: seal, model-call, context, governed-call, ai-sdk, langchain, openai-agents, gateway, mcp-proxy, cli, verify, monitor, eval, appends, sqlite, postgres, postgres-listing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchAssembly } from '../src/context/index.ts';
import { PostgresStore, SqliteStore } from '../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from '../src/store/testing/index.ts';
import { benchAiSdkMiddleware } from './ai-sdk-bench.ts';
import { benchAuditVerify } from './audit-verify-bench.ts';
import { benchCliStart } from './cli-start-bench.ts';
import { benchGateway } from './gateway-bench.ts';
import { benchGovernedCall } from './governed-call-bench.ts';
import type { Measure } from './journal-bench.ts';
import { benchAppendRatio, benchSeal, benchStore } from './journal-bench.ts';
import { benchLangChainMiddleware } from './langchain-bench.ts';
import { benchModelCall } from './model-call-bench.ts';
import { benchMcpProxy } from './mcp-proxy-bench.ts';
import { benchOpenAiAgentsProvider } from './openai-agents-bench.ts';
import { benchMonitorCalibration } from './monitor-calibration-bench.ts';
import { benchEvalCalibration } from './eval-calibration-bench.ts';
import { benchSharedLimits } from './shared-limits-bench.ts';
import { benchSharedBulkhead } from './shared-bulkhead-bench.ts';
import { benchPostgresListing } from './postgres-listing-bench.ts';
import { benchRedaction } from './redaction-bench.ts';

const sections: Record<string, () => Promise<Measure[]>> = {
  seal: async () => [benchSeal()],
  redaction: () => benchRedaction(),
  'model-call': () => benchModelCall(),
  context: async () => {
    const assembly = benchAssembly();
    const detail = `${assembly.candidateItems} items, ${assembly.candidateTokens} candidate tokens cut to ${assembly.promptTokens} prompt tokens (8k budget); median of ${assembly.runs}; first, uncached run ${assembly.coldMs} ms`;
    process.stdout.write(`  context: assembly 100k → 8k tokens: ${assembly.medianMs} ms  (${detail})\n`);
    return [{ name: 'context: assembly, 100k-token candidate set to an 8k budget', value: assembly.medianMs, unit: 'ms', detail }];
  },
  'governed-call': () => benchGovernedCall(),
  'ai-sdk': () => benchAiSdkMiddleware(),
  langchain: () => benchLangChainMiddleware(),
  'openai-agents': () => benchOpenAiAgentsProvider(),
  gateway: () => benchGateway(),
  'mcp-proxy': () => benchMcpProxy(),
  cli: () => benchCliStart(),
  verify: async () => [await benchAuditVerify()],
  monitor: () => benchMonitorCalibration(),
  eval: () => benchEvalCalibration(),
  'shared-bulkhead': () => benchSharedBulkhead(notes),
  appends: async () => {
    const folder = mkdtempSync(join(tmpdir(), 'keel-bench-appends-'));
    try {
      const measures: Measure[] = [];
      for (const durability of ['full', 'normal'] as const) for (const writers of [64, 256]) measures.push(await benchAppendRatio(folder, durability, writers, writers === 64 ? 300 : 100, 11));
      return measures;
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  },
  sqlite: async () => {
    const measures: Measure[] = [];
    for (const durability of ['full', 'normal'] as const) {
      const folder = mkdtempSync(join(tmpdir(), 'keel-bench-'));
      const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability });
      const label = durability === 'full' ? 'sqlite, durability full (fdatasync before ack)' : 'sqlite, durability normal (in the WAL before ack, no fsync)';
      measures.push(...(await benchStore(label, store, { awaited: durability === 'full' ? 2_000 : 20_000, pipelined: 50_000, writers: [64, 256], concurrentEvents: 60_000, steps: 20_000 })));
      await store.close();
      rmSync(folder, { recursive: true, force: true });
    }
    return measures;
  },
  postgres: async () => {
    const postgres = await openTestPostgres();
    if ('skipReason' in postgres) {
      notes.push(`PostgreSQL skipped: ${postgres.skipReason}`);
      process.stdout.write(`  PostgreSQL skipped: ${postgres.skipReason}\n`);
      return [];
    }
    const schema = uniqueSchemaName('bench');
    const store = await PostgresStore.open({ url: postgres.url, schema });
    try {
      return await benchStore('postgres', store, { awaited: 2_000, pipelined: 20_000, writers: [64, 256], concurrentEvents: 30_000, steps: 5_000 });
    } finally {
      await store.close();
      await dropSchema(postgres.url, schema);
    }
  },
  'postgres-listing': () => benchPostgresListing(notes),
};

const notes: string[] = [];
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !Object.hasOwn(sections, name));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown section ${unknown.join(', ')} (sections: ${Object.keys(sections).join(', ')})\n`);
  process.exit(2);
}
const chosen = wanted.length === 0 ? Object.keys(sections) : wanted;

const measures: Measure[] = [];
// Other work on the machine moves absolute figures; the ratios are measured side by side for that reason.
const loadAtStart = loadavg()[0] ?? 0;
process.stdout.write(`Keel benchmarks on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), Node ${process.versions.node}, load average ${loadAtStart.toFixed(1)}\n`);
for (const name of chosen) measures.push(...(await (sections[name] as () => Promise<Measure[]>)()));

if (wanted.length === 0) {
  measures.push(...(await benchSharedLimits(notes)));

const results = { date: new Date().toISOString(), node: process.versions.node, cores: cpus().length, loadAverage: { start: loadAtStart, end: loadavg()[0] ?? 0 }, measures, notes };
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  const table = measures.map((measure) => `| ${measure.name} | ${measure.value.toLocaleString('en-US')} ${measure.unit} | ${measure.detail} |`).join('\n');
  writeFileSync(
    join(import.meta.dirname, 'results', 'latest.md'),
    `# Keel benchmarks\n\n${results.date}, Node ${results.node}, ${results.cores} cores, load average ${results.loadAverage.start.toFixed(1)} at the start and ${results.loadAverage.end.toFixed(1)} at the end.\n\n| measure | result | what |\n| --- | --- | --- |\n${table}\n${notes.map((note) => `\n${note}\n`).join('')}`,
  );
  process.stdout.write('wrote bench/results/latest.json and bench/results/latest.md\n');
} else {
  process.stdout.write(`ran ${chosen.join(', ')}; bench/results/ is written by a full run only\n`);
}
