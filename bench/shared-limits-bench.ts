/**
 * What sharing rate limits and breakers across processes costs, each figure beside its in-memory
 * baseline measured in the same process: one rate-limit acquisition (sequential, and 16 in flight)
 * on memory, SQLite, PostgreSQL and Redis; and a governed call (sim:default, outside a run) whose
 * breaker is cockatiel's in memory or reads shared state (refreshed every 250 ms). And one key whose
 * window already holds 18,000 calls (limit 1,000,000 per minute, as the gateway bench sets): a
 * decision must not cost more as its window fills.
 * Run alone: node bench/shared-limits-bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultPriceTable } from '../src/cost/index.ts';
import { GovernedModel, SharedGuards, SimulatorModel } from '../src/models/index.ts';
import { connectRedisLimits } from '../src/redis/index.ts';
import { openTestRedis, uniqueRedisPrefix } from '../src/redis/testing/index.ts';
import type { BreakerStoreV1, RateLimiterV1 } from '../src/spec/index.ts';
import { PostgresStore, SqliteStore } from '../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName } from '../src/store/testing/index.ts';
import { SlidingWindowRateLimiter } from '../src/tools/index.ts';
import type { Measure } from './journal-bench.ts';

interface Backend {
  label: string;
  rateLimiter: RateLimiterV1;
  breakers: BreakerStoreV1 | undefined;
  close: () => Promise<void>;
}

const median = (values: number[]): number => [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)] ?? 0;
const round1 = (value: number): number => Math.round(value * 10) / 10;

/** µs per acquisition: `total` acquisitions on distinct keys (none refused), `inFlight` at a time; median of 5 rounds. */
async function microsPerAcquire(limiter: RateLimiterV1, total: number, inFlight: number): Promise<number> {
  const samples: number[] = [];
  for (let round = 0; round < 6; round += 1) {
    let next = 0;
    const began = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < total) {
          const index = next++;
          const decision = await limiter.acquire([{ key: `bench:${round}:tenant-${index % 50}`, limit: 1_000_000, windowMs: 60_000 }]);
          if (!decision.allowed) throw new Error('a bench acquisition was refused');
        }
      }),
    );
    // The first round warms up.
    if (round > 0) samples.push(((performance.now() - began) * 1000) / total);
  }
  return median(samples);
}

/** µs per acquisition over the last 2,000 of 20,000 sequential ones on one key (none refused, none leaves the window). */
async function microsPerAcquireFullWindow(limiter: RateLimiterV1, label: string): Promise<number> {
  const key = `bench:full-window:${label}:${performance.now()}`;
  let began = 0;
  for (let index = 0; index < 20_000; index += 1) {
    if (index === 18_000) began = performance.now();
    const decision = await limiter.acquire([{ key, limit: 1_000_000, windowMs: 60_000 }]);
    if (!decision.allowed) throw new Error('a bench acquisition was refused');
  }
  return ((performance.now() - began) * 1000) / 2_000;
}

/** µs per governed call outside a run on a one-model route, for `durationMs`; median of 5 rounds. */
async function microsPerGovernedCall(guards: SharedGuards): Promise<number> {
  const model = new GovernedModel({ name: 'bench-breaker', models: ['sim:default'] }, { prices: defaultPriceTable, guards, resolveModel: () => new SimulatorModel({ profile: 'default' }) });
  const request = { messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Where is my order A-1001?' }] }] };
  const samples: number[] = [];
  for (let round = 0; round < 6; round += 1) {
    const began = performance.now();
    for (let index = 0; index < 2_000; index += 1) await model.doGenerate(request);
    if (round > 0) samples.push(((performance.now() - began) * 1000) / 2_000);
  }
  return median(samples);
}

async function backends(notes: string[]): Promise<Backend[]> {
  const folder = mkdtempSync(join(tmpdir(), 'keel-bench-limits-'));
  const sqlite = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
  const found: Backend[] = [
    { label: 'memory', rateLimiter: new SlidingWindowRateLimiter(), breakers: undefined, close: async () => undefined },
    {
      label: 'sqlite (durability normal)',
      rateLimiter: sqlite.rateLimits,
      breakers: sqlite.breakers,
      close: async () => {
        await sqlite.close();
        rmSync(folder, { recursive: true, force: true });
      },
    },
  ];
  const postgres = await openTestPostgres();
  if ('skipReason' in postgres) notes.push(`shared limits on PostgreSQL skipped: ${postgres.skipReason}`);
  else {
    const schema = uniqueSchemaName('bench_limits');
    const store = await PostgresStore.open({ url: postgres.url, schema });
    found.push({
      label: 'postgres',
      rateLimiter: store.rateLimits,
      breakers: store.breakers,
      close: async () => {
        await store.close();
        await dropSchema(postgres.url, schema);
      },
    });
  }
  const redis = await openTestRedis();
  if ('skipReason' in redis) notes.push(`shared limits on Redis skipped: ${redis.skipReason}`);
  else {
    const limits = await connectRedisLimits({ url: redis.url, prefix: uniqueRedisPrefix('bench') });
    found.push({ label: 'redis', rateLimiter: limits.rateLimiter, breakers: limits.breakers, close: () => limits.close() });
  }
  return found;
}

export async function benchSharedLimits(notes: string[] = []): Promise<Measure[]> {
  const measures: Measure[] = [];
  const add = (name: string, value: number, unit: string, detail: string) => {
    measures.push({ name: `shared limits: ${name}`, value: round1(value), unit, detail });
    process.stdout.write(`  shared limits: ${name}: ${value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1)} ${unit}  (${detail})\n`);
  };
  const all = await backends(notes);
  try {
    // Warm the JIT on the in-memory path first, so the baseline is not the one measured cold.
    await microsPerGovernedCall(new SharedGuards());
    await microsPerAcquire(new SlidingWindowRateLimiter(), 4_000, 16);
    let memory = { sequential: 0, concurrent: 0, fullWindow: 0, call: 0 };
    for (const backend of all) {
      const sequential = await microsPerAcquire(backend.rateLimiter, 2_000, 1);
      const concurrent = await microsPerAcquire(backend.rateLimiter, 4_000, 16);
      const fullWindow = await microsPerAcquireFullWindow(backend.rateLimiter, backend.label);
      const call = await microsPerGovernedCall(new SharedGuards(backend.breakers === undefined ? {} : { breakers: backend.breakers }));
      if (backend.label === 'memory') memory = { sequential, concurrent, fullWindow, call };
      const ratio = (value: number, baseline: number) => (backend.label === 'memory' ? 'the baseline' : `${(value / baseline).toFixed(1)}x memory`);
      add(`rate-limit acquire, ${backend.label}, one at a time`, sequential, 'µs/acquire', ratio(sequential, memory.sequential));
      add(`rate-limit acquire, ${backend.label}, 16 in flight`, concurrent, 'µs/acquire', ratio(concurrent, memory.concurrent));
      const againstSequential = backend.label === 'memory' ? '' : `, ${(fullWindow / sequential).toFixed(1)}x its own near-empty windows`;
      add(`rate-limit acquire, ${backend.label}, one key with 18,000 calls in its window`, fullWindow, 'µs/acquire', `${ratio(fullWindow, memory.fullWindow)}${againstSequential}`);
      add(`governed sim call, breaker ${backend.label === 'memory' ? 'in memory (cockatiel)' : `state in ${backend.label}`}`, call, 'µs/call', ratio(call, memory.call));
    }
  } finally {
    for (const backend of all) await backend.close();
  }
  return measures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const notes: string[] = [];
  await benchSharedLimits(notes);
  for (const note of notes) process.stdout.write(`  ${note}\n`);
}
