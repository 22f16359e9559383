/**
 * Journal and engine benchmarks: append throughput (one writer, pipelined, concurrent) and the
 * in-process overhead of one durable step. Each measure runs against a real store.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fdatasync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { defineTask, Engine } from '../src/engine/index.ts';
import { genesisHash, sealEvent, toRecord } from '../src/journal/index.ts';
import type { JournalRecordV1, StoreV1 } from '../src/spec/index.ts';
import type { SqliteDurability } from '../src/store/index.ts';
import { SqliteStore } from '../src/store/index.ts';

export interface Measure {
  name: string;
  value: number;
  unit: string;
  detail: string;
}

// A step-end of realistic size: an order lookup result (~350 bytes of JSON).
const payload = {
  step: 2,
  name: 'lookup_order',
  kind: 'tool-call',
  epoch: 0,
  durationMs: 3,
  outcome: { ok: true, value: { found: true, order: { id: 'A-1001', customer: 'Maya Chen', category: 'apparel', totalCents: 4200, deliveredDaysAgo: 12, notes: 'x'.repeat(120) } } },
} as const;

async function newRun(store: StoreV1): Promise<{ runId: string; prevHash: string }> {
  const runId = `bench_${randomUUID()}`;
  const first = sealEvent({ runId, seq: 1, prevHash: genesisHash }, 'run-start', { task: 'bench', taskVersion: '1', input: null, principal: 'bench', tenant: 'bench', configHash: genesisHash, config: null });
  await store.createRun({ run: { id: runId, task: 'bench', taskVersion: '1', principal: 'bench', tenant: 'bench', status: 'running' }, first: toRecord(first) });
  return { runId, prevHash: first.hash };
}

function nextRecord(runId: string, seq: number, prevHash: string): JournalRecordV1 {
  return toRecord(sealEvent({ runId, seq, prevHash }, 'step-end', payload as never));
}

/** Seals and appends `count` events to one run, one append at a time, each awaited (durable before the next). */
async function singleWriterAwaited(store: StoreV1, count: number): Promise<number> {
  const run = await newRun(store);
  let prevHash = run.prevHash;
  const began = performance.now();
  for (let seq = 2; seq < count + 2; seq += 1) {
    const record = nextRecord(run.runId, seq, prevHash);
    await store.append({ runId: run.runId, records: [record], summary: { stepCount: seq } });
    prevHash = record.hash;
  }
  return count / ((performance.now() - began) / 1000);
}

/** One writer that does not wait for each append before issuing the next (group commit batches them). */
async function singleWriterPipelined(store: StoreV1, count: number): Promise<number> {
  const run = await newRun(store);
  let prevHash = run.prevHash;
  const began = performance.now();
  const pending: Promise<void>[] = [];
  for (let seq = 2; seq < count + 2; seq += 1) {
    const record = nextRecord(run.runId, seq, prevHash);
    pending.push(store.append({ runId: run.runId, records: [record], summary: { stepCount: seq } }));
    prevHash = record.hash;
    // Yield now and then, as a real producer would, so commits interleave with production.
    if (pending.length % 256 === 0) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  return count / ((performance.now() - began) / 1000);
}

/** `writers` runs appending concurrently, each awaiting its own appends one by one. */
async function concurrentWriters(store: StoreV1, writers: number, perWriter: number): Promise<number> {
  const runs = await Promise.all(Array.from({ length: writers }, () => newRun(store)));
  const began = performance.now();
  await Promise.all(
    runs.map(async (run) => {
      let prevHash = run.prevHash;
      for (let seq = 2; seq < perWriter + 2; seq += 1) {
        const record = nextRecord(run.runId, seq, prevHash);
        await store.append({ runId: run.runId, records: [record], summary: { stepCount: seq } });
        prevHash = record.hash;
      }
    }),
  );
  return (writers * perWriter) / ((performance.now() - began) / 1000);
}

/** µs per durable step: a task of `steps` no-op steps, minus the same loop without the engine. */
async function stepOverhead(store: StoreV1, steps: number, runs: number, idempotent: boolean): Promise<number> {
  const task = defineTask({
    name: `bench-steps-${idempotent ? 'idempotent' : 'effect'}`,
    version: '1',
    run: async (context) => {
      let total = 0;
      for (let index = 0; index < steps; index += 1) total += await context.step('noop', () => index, { idempotent });
      return total;
    },
  });
  const engine = new Engine({ store, tasks: [task] });
  const began = performance.now();
  await Promise.all(Array.from({ length: runs }, () => engine.start(task.name, null, { principal: 'bench', tenant: 'bench' })));
  return ((performance.now() - began) * 1000) / (steps * runs);
}

function sealCost(count: number): number {
  let prevHash = genesisHash;
  const began = performance.now();
  for (let seq = 1; seq <= count; seq += 1) prevHash = nextRecord('bench_seal', seq, prevHash).hash;
  return ((performance.now() - began) * 1000) / count;
}

export async function benchStore(label: string, store: StoreV1, scale: { awaited: number; pipelined: number; writers: number[]; concurrentEvents: number; steps: number }): Promise<Measure[]> {
  const measures: Measure[] = [];
  const add = (name: string, value: number, unit: string, detail: string) => {
    measures.push({ name: `${label}: ${name}`, value: Math.round(value * 10) / 10, unit, detail });
    process.stdout.write(`  ${label}: ${name}: ${Math.round(value).toLocaleString('en-US')} ${unit}  (${detail})\n`);
  };
  add('append, single writer, each awaited', await singleWriterAwaited(store, scale.awaited), 'events/s', `${scale.awaited} appends of one ~350-byte event, each durable before the next`);
  add('append, single writer, pipelined', await singleWriterPipelined(store, scale.pipelined), 'events/s', `${scale.pipelined} appends to one run issued without waiting, group-committed`);
  for (const writers of scale.writers) {
    const perWriter = Math.ceil(scale.concurrentEvents / writers);
    add(`append, ${writers} concurrent writers`, await concurrentWriters(store, writers, perWriter), 'events/s', `${writers} runs x ${perWriter} appends, each writer awaiting its own before the next`);
  }
  add('journaled step overhead, one run', await stepOverhead(store, scale.steps, 1, true), 'µs/step', `${scale.steps} idempotent no-op steps in one run; each step's events are durable before the next effect, checkpoint or run end`);
  add('journaled step overhead, 32 concurrent runs', await stepOverhead(store, Math.ceil(scale.steps / 32), 32, true), 'µs/step', 'wall time / steps across 32 runs in one process');
  add('non-idempotent step overhead, one run', await stepOverhead(store, Math.ceil(scale.steps / 4), 1, false), 'µs/step', 'start durable before the effect runs, end durable before the step returns: two waits per step');
  return measures;
}

export function benchSeal(): Measure {
  const value = sealCost(20_000);
  process.stdout.write(`  journal: seal one event (canonical JSON + sha256): ${value.toFixed(1)} µs\n`);
  return { name: 'journal: seal one event', value: Math.round(value * 10) / 10, unit: 'µs/event', detail: 'canonical JSON + sha256 of a ~350-byte step-end' };
}

/** Fills a store with `runs` runs of `eventsPerRun` events each (the first a run-start); returns their ids. */
export async function fillStore(store: StoreV1, shape: { runs: number; eventsPerRun: number }): Promise<string[]> {
  const runIds: string[] = [];
  for (let index = 0; index < shape.runs; index += 1) {
    const run = await newRun(store);
    let prevHash = run.prevHash;
    const pending: Promise<void>[] = [];
    for (let seq = 2; seq <= shape.eventsPerRun; seq += 1) {
      const record = nextRecord(run.runId, seq, prevHash);
      pending.push(store.append({ runId: run.runId, records: [record], summary: { stepCount: seq } }));
      prevHash = record.hash;
    }
    await Promise.all(pending);
    runIds.push(run.runId);
  }
  return runIds;
}

/** Each writer's records, sealed before the clock starts: the store's append path is what is timed. */
async function sealedChains(store: StoreV1, writers: number, perWriter: number): Promise<{ runId: string; records: JournalRecordV1[] }[]> {
  const runs = await Promise.all(Array.from({ length: writers }, () => newRun(store)));
  return runs.map((run) => {
    const records: JournalRecordV1[] = [];
    let prevHash = run.prevHash;
    for (let seq = 2; seq < perWriter + 2; seq += 1) {
      const record = nextRecord(run.runId, seq, prevHash);
      records.push(record);
      prevHash = record.hash;
    }
    return { runId: run.runId, records };
  });
}

/** Keel: `writers` runs appending at once, each awaiting its own append before the next; events/s. */
async function keelAppends(path: string, durability: SqliteDurability, writers: number, perWriter: number): Promise<number> {
  const store = SqliteStore.open({ path, durability });
  try {
    const chains = await sealedChains(store, writers, perWriter);
    const began = performance.now();
    await Promise.all(
      chains.map(async ({ runId, records }) => {
        for (const record of records) await store.append({ runId, records: [record], summary: { stepCount: record.seq } });
      }),
    );
    return (writers * perWriter) / ((performance.now() - began) / 1000);
  } finally {
    await store.close();
  }
}

/**
 * The baseline: raw node:sqlite inserting the same rows into a table of the journal's shape, in
 * groups of `writers` rows (the group a commit of `writers` waiting writers holds), under the same
 * sync policy: WAL, synchronous=NORMAL, and for `full` one fdatasync of the WAL per group on the
 * thread pool before the next group. No run index, no checks, no promises per row.
 */
async function rawInserts(path: string, durability: SqliteDurability, writers: number, perWriter: number, rows: { text: string; record: JournalRecordV1 }[][]): Promise<number> {
  const database = new DatabaseSync(path);
  database.exec('PRAGMA journal_mode = WAL');
  database.exec('PRAGMA synchronous = NORMAL');
  database.exec(`CREATE TABLE journal (run_key INTEGER NOT NULL, seq INTEGER NOT NULL, time TEXT NOT NULL, type TEXT NOT NULL, schema_version INTEGER NOT NULL,
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL, data TEXT NOT NULL) STRICT; CREATE UNIQUE INDEX journal_position ON journal (run_key, seq);`);
  const insert = database.prepare('INSERT INTO journal (run_key, seq, time, type, schema_version, prev_hash, hash, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const begin = database.prepare('BEGIN IMMEDIATE');
  const commit = database.prepare('COMMIT');
  const wal = openSync(`${path}-wal`, 'r');
  try {
    const began = performance.now();
    for (let group = 0; group < perWriter; group += 1) {
      begin.run();
      for (let writer = 0; writer < writers; writer += 1) {
        const { text, record } = (rows[writer] as { text: string; record: JournalRecordV1 }[])[group] as { text: string; record: JournalRecordV1 };
        insert.run(writer + 1, record.seq, record.time, record.type, record.schemaVersion, record.prevHash, record.hash, text);
      }
      commit.run();
      if (durability === 'full') await new Promise<void>((resolve, reject) => fdatasync(wal, (error) => (error === null ? resolve() : reject(error))));
    }
    return (writers * perWriter) / ((performance.now() - began) / 1000);
  } finally {
    closeSync(wal);
    database.close();
  }
}

/**
 * Journal appends over raw node:sqlite, side by side: for each round a fresh file for each, Keel and
 * the baseline one after the other, the first alternating between rounds; the ratio of the medians.
 */
export async function benchAppendRatio(folder: string, durability: SqliteDurability, writers: number, perWriter: number, rounds = 3): Promise<Measure> {
  const keel: number[] = [];
  const raw: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    // The same rows: sealed the same way, their data as the store writes it.
    const chains = Array.from({ length: writers }, (_, writer) => {
      const runId = `bench_raw_${writer}`;
      let prevHash = genesisHash;
      return Array.from({ length: perWriter }, (_, index) => {
        const record = nextRecord(runId, index + 2, prevHash);
        prevHash = record.hash;
        return { text: JSON.stringify(record.data), record };
      });
    });
    // Who goes first alternates, so a drift in the machine's load touches both sides alike.
    const keelRound = () => keelAppends(join(folder, `keel-${durability}-${writers}-${round}.db`), durability, writers, perWriter);
    const rawRound = () => rawInserts(join(folder, `raw-${durability}-${writers}-${round}.db`), durability, writers, perWriter, chains);
    if (round % 2 === 0) {
      keel.push(await keelRound());
      raw.push(await rawRound());
    } else {
      raw.push(await rawRound());
      keel.push(await keelRound());
    }
  }
  const middle = (values: number[]) => [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)] as number;
  const ratio = middle(keel) / middle(raw);
  const detail = `Keel ${Math.round(middle(keel)).toLocaleString('en-US')} events/s vs raw node:sqlite ${Math.round(middle(raw)).toLocaleString('en-US')} rows/s; ${writers} runs x ${perWriter} appends of a ~350-byte event, each writer awaiting its own; groups of ${writers} rows, ${durability === 'full' ? 'one fdatasync per group' : 'no fsync'}; median of ${rounds}`;
  process.stdout.write(`  sqlite appends over raw node:sqlite, ${durability}, ${writers} writers: ${ratio.toFixed(2)}×  (${detail})\n`);
  return { name: `sqlite, durability ${durability}: journal appends over raw node:sqlite, ${writers} writers`, value: Math.round(ratio * 100) / 100, unit: '×', detail };
}
