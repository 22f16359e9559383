/** `npm run bench`: runs every benchmark, prints it, and writes bench/results/. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresStore, SqliteStore } from '../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from '../src/store/testing/index.ts';
import type { Measure } from './journal-bench.ts';
import { benchSeal, benchStore } from './journal-bench.ts';
import { benchModelCall } from './model-call-bench.ts';
import { benchSharedLimits } from './shared-limits-bench.ts';
import { benchAiSdkMiddleware } from './ai-sdk-bench.ts';
import { benchAssembly } from '../src/context/index.ts';

const measures: Measure[] = [];
const notes: string[] = [];
process.stdout.write(`Keel benchmarks on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), Node ${process.versions.node}\n`);
measures.push(benchSeal());
measures.push(...(await benchModelCall()));
measures.push(...(await benchAiSdkMiddleware()));
const assembly = benchAssembly();
const assemblyDetail = `${assembly.candidateItems} items, ${assembly.candidateTokens} candidate tokens cut to ${assembly.promptTokens} prompt tokens (8k budget); median of ${assembly.runs}; first, uncached run ${assembly.coldMs} ms`;
measures.push({ name: 'context: assembly, 100k-token candidate set to an 8k budget', value: assembly.medianMs, unit: 'ms', detail: assemblyDetail });
process.stdout.write(`  context: assembly 100k → 8k tokens: ${assembly.medianMs} ms  (${assemblyDetail})\n`);

for (const durability of ['full', 'normal'] as const) {
  const folder = mkdtempSync(join(tmpdir(), 'keel-bench-'));
  const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability });
  const label = durability === 'full' ? 'sqlite, durability full (fdatasync before ack)' : 'sqlite, durability normal (in the WAL before ack, no fsync)';
  measures.push(...(await benchStore(label, store, { awaited: durability === 'full' ? 2_000 : 20_000, pipelined: 50_000, writers: [64, 256], concurrentEvents: 60_000, steps: 20_000 })));
  await store.close();
  rmSync(folder, { recursive: true, force: true });
}

const postgres = await openTestPostgres();
if ('skipReason' in postgres) {
  notes.push(`PostgreSQL skipped: ${postgres.skipReason}`);
  process.stdout.write(`  PostgreSQL skipped: ${postgres.skipReason}\n`);
} else {
  const schema = uniqueSchemaName('bench');
  const store = await PostgresStore.open({ url: postgres.url, schema });
  measures.push(...(await benchStore('postgres', store, { awaited: 2_000, pipelined: 20_000, writers: [64, 256], concurrentEvents: 30_000, steps: 5_000 })));
  await store.close();
  await dropSchema(postgres.url, schema);
}

measures.push(...(await benchSharedLimits(notes)));

const results = { date: new Date().toISOString(), node: process.versions.node, cores: cpus().length, measures, notes };
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
const table = measures.map((measure) => `| ${measure.name} | ${measure.value.toLocaleString('en-US')} ${measure.unit} | ${measure.detail} |`).join('\n');
writeFileSync(
  join(import.meta.dirname, 'results', 'latest.md'),
  `# Keel benchmarks\n\n${results.date}, Node ${results.node}, ${results.cores} cores.\n\n| measure | result | what |\n| --- | --- | --- |\n${table}\n${notes.map((note) => `\n${note}\n`).join('')}`,
);
process.stdout.write('wrote bench/results/latest.json and bench/results/latest.md\n');
