/**
 * What sharing bulkheads across processes costs, each figure beside its in-memory baseline measured
 * in the same process: a governed call (sim:default, outside a run) whose bulkhead is cockatiel's in
 * memory, or takes and releases a leased slot in SQLite (durability normal and full), PostgreSQL or
 * Redis; one call at a time, and 16 in flight.
 * Run alone: node bench/shared-bulkhead-bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultPriceTable } from '../src/cost/index.ts';
import { GovernedModel, SharedGuards, SimulatorModel } from '../src/models/index.ts';
import { connectRedisLimits } from '../src/redis/index.ts';
import { openTestRedis, uniqueRedisPrefix } from '../src/redis/testing/index.ts';
import type { ConcurrencyStoreV1 } from '../src/spec/index.ts';
import { PostgresStore, SqliteStore } from '../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from '../src/store/testing/index.ts';
import type { Measure } from './journal-bench.ts';

interface Backend {
  label: string;
  concurrency: ConcurrencyStoreV1 | undefined;
  /** Calls per round: fewer where each one waits on fsync. */
  calls: number;
  close: () => Promise<void>;
}

const median = (values: number[]): number => [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)] ?? 0;
const round1 = (value: number): number => Math.round(value * 10) / 10;

/** µs per governed call outside a run on a one-model route, `inFlight` at a time; median of 5 rounds after a warm-up. */
async function microsPerCall(guards: SharedGuards, calls: number, inFlight: number): Promise<number> {
  const model = new GovernedModel({ name: 'bench-bulkhead', models: ['sim:default'] }, { prices: defaultPriceTable, guards, resolveModel: () => new SimulatorModel({ profile: 'default' }) });
  const request = { messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Where is my order A-1001?' }] }] };
  const samples: number[] = [];
  for (let round = 0; round < 6; round += 1) {
    let next = 0;
    const began = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < calls) {
          next += 1;
          await model.doGenerate(request);
        }
      }),
    );
    if (round > 0) samples.push(((performance.now() - began) * 1000) / calls);
  }
  return median(samples);
}

async function backends(notes: string[]): Promise<Backend[]> {
  const folder = mkdtempSync(join(tmpdir(), 'keel-bench-bulkhead-'));
  const normal = SqliteStore.open({ path: join(folder, 'normal.db'), durability: 'normal' });
  const full = SqliteStore.open({ path: join(folder, 'full.db'), durability: 'full' });
  const found: Backend[] = [
    { label: 'memory', concurrency: undefined, calls: 2_000, close: async () => undefined },
    { label: 'sqlite (durability normal)', concurrency: normal.concurrency, calls: 2_000, close: () => normal.close() },
    {
      label: 'sqlite (durability full)',
      concurrency: full.concurrency,
      calls: 300,
      close: async () => {
        await full.close();
        rmSync(folder, { recursive: true, force: true });
      },
    },
  ];
  const postgres = await openTestPostgres();
  if ('skipReason' in postgres) notes.push(`shared bulkheads on PostgreSQL skipped: ${postgres.skipReason}`);
  else {
    const schema = uniqueSchemaName('bench_bulkhead');
    const store = await PostgresStore.open({ url: postgres.url, schema });
    found.push({
      label: 'postgres',
      concurrency: store.concurrency,
      calls: 500,
      close: async () => {
        await store.close();
        await dropSchema(postgres.url, schema);
      },
    });
  }
  const redis = await openTestRedis();
  if ('skipReason' in redis) notes.push(`shared bulkheads on Redis skipped: ${redis.skipReason}`);
  else {
    const limits = await connectRedisLimits({ url: redis.url, prefix: uniqueRedisPrefix('bench-bulkhead') });
    found.push({ label: 'redis', concurrency: limits.concurrency, calls: 2_000, close: () => limits.close() });
  }
  return found;
}

export async function benchSharedBulkhead(notes: string[] = []): Promise<Measure[]> {
  const measures: Measure[] = [];
  const add = (name: string, value: number, detail: string) => {
    measures.push({ name: `shared bulkhead: ${name}`, value: round1(value), unit: 'µs/call', detail });
    process.stdout.write(`  shared bulkhead: ${name}: ${value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1)} µs/call  (${detail})\n`);
  };
  const all = await backends(notes);
  try {
    // Warm the JIT on the in-memory path first, so the baseline is not the one measured cold.
    await microsPerCall(new SharedGuards(), 2_000, 16);
    let memory = { sequential: 0, concurrent: 0 };
    for (const backend of all) {
      const guards = () => new SharedGuards(backend.concurrency === undefined ? {} : { concurrency: backend.concurrency });
      const sequential = await microsPerCall(guards(), backend.calls, 1);
      const concurrent = await microsPerCall(guards(), backend.calls, 16);
      if (backend.label === 'memory') memory = { sequential, concurrent };
      const ratio = (value: number, baseline: number) => (backend.label === 'memory' ? 'the baseline' : `${(value / baseline).toFixed(1)}x memory`);
      const where = backend.label === 'memory' ? 'in memory (cockatiel)' : `slots in ${backend.label}`;
      add(`governed sim call, bulkhead ${where}, one at a time`, sequential, ratio(sequential, memory.sequential));
      add(`governed sim call, bulkhead ${where}, 16 in flight`, concurrent, ratio(concurrent, memory.concurrent));
    }
  } finally {
    for (const backend of all) await backend.close();
  }
  return measures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const notes: string[] = [];
  await benchSharedBulkhead(notes);
  for (const note of notes) process.stdout.write(`  ${note}\n`);
}
