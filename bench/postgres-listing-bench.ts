/**
 * The PostgreSQL store's reads and a lone write on a table of 100,000 runs: a first page of
 * listRuns (what keel runs, GET /admin/runs and the dashboard ask), one filtered by a status, one
 * by a status no run has, getRun, and one awaited append; first on the freshly filled table with no
 * statistics, then after ANALYZE. Medians of 41 calls each.
 * Run alone: node --conditions=keel-source bench/postgres-listing-bench.ts
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { genesisHash, sealEvent, toRecord } from '../src/journal/index.ts';
import type { JournalRecordV1, RunStatusV1 } from '../src/spec/index.ts';
import { PostgresStore } from '../src/store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName, withClient } from '../src/store/testing/index.ts';
import type { Measure } from './journal-bench.ts';

const runCount = 100_000;
const calls = 41;
// One run in ten failed, one in twenty is still running (those take the appends); none is queued.
const statuses: RunStatusV1[] = [...Array<RunStatusV1>(16).fill('ok'), 'failed', 'failed', 'degraded', 'running'];
const tasks = ['support-triage', 'refund', 'search', 'summarise', 'classify'];

interface OpenRun {
  runId: string;
  seq: number;
  prevHash: string;
}

const median = (values: number[]): number => [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)] ?? 0;

/** 100,000 runs over the last 30 days, created through the store in its own order; a third carry two tags. */
async function fill(store: PostgresStore): Promise<{ open: OpenRun[]; ids: string[] }> {
  const spanMs = 30 * 24 * 3600 * 1000;
  const start = Date.now() - spanMs;
  const open: OpenRun[] = [];
  const ids: string[] = [];
  const pending: Promise<void>[] = [];
  for (let index = 0; index < runCount; index += 1) {
    const runId = `bench_${randomUUID()}`;
    const task = tasks[index % tasks.length] ?? 'search';
    const status = statuses[index % statuses.length] ?? 'ok';
    const who = { principal: `user-${index % 97}`, tenant: `tenant-${index % 7}` };
    const first = sealEvent({ runId, seq: 1, prevHash: genesisHash }, 'run-start', { task, taskVersion: '1', input: null, ...who, configHash: genesisHash, config: null }, new Date(start + Math.floor((index * spanMs) / runCount)));
    const tags = index % 3 === 0 ? { tags: { project: `p${index % 11}`, team: `t${index % 5}` } } : {};
    pending.push(store.createRun({ run: { id: runId, task, taskVersion: '1', ...who, status, ...tags }, first: toRecord(first) }));
    if (status === 'running' && open.length < calls) open.push({ runId, seq: 1, prevHash: first.hash });
    if (index % 1000 === 0) ids.push(runId);
    if (pending.length >= 2_000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  return { open, ids };
}

function nextRecord(run: OpenRun): JournalRecordV1 {
  return toRecord(sealEvent({ runId: run.runId, seq: run.seq + 1, prevHash: run.prevHash }, 'step-end', { step: run.seq, name: 'lookup', kind: 'tool-call', epoch: 0, durationMs: 1, outcome: { ok: true, value: 1 } } as never));
}

async function medianMs(work: (index: number) => Promise<unknown>): Promise<number> {
  const durations: number[] = [];
  for (let index = 0; index < calls; index += 1) {
    const began = performance.now();
    await work(index);
    durations.push(performance.now() - began);
  }
  return median(durations);
}

export async function benchPostgresListing(notes: string[] = []): Promise<Measure[]> {
  const postgres = await openTestPostgres();
  if ('skipReason' in postgres) {
    notes.push(`PostgreSQL listing skipped: ${postgres.skipReason}`);
    process.stdout.write(`  PostgreSQL listing skipped: ${postgres.skipReason}\n`);
    return [];
  }
  const schema = uniqueSchemaName('bench_listing');
  const store = await PostgresStore.open({ url: postgres.url, schema });
  const measures: Measure[] = [];
  const add = (name: string, value: number, detail: string) => {
    measures.push({ name: `postgres, 100k runs: ${name}`, value: Math.round(value * 100) / 100, unit: 'ms', detail });
    process.stdout.write(`  postgres, 100k runs: ${name}: ${value.toFixed(2)} ms  (${detail})\n`);
  };
  try {
    // Autovacuum would analyze the table at a moment of its choosing; the bench says when.
    await withClient(postgres.url, (client) => client.query(`ALTER TABLE "${schema}".runs SET (autovacuum_enabled = false); ALTER TABLE "${schema}".run_tags SET (autovacuum_enabled = false)`));
    const { open, ids } = await fill(store);
    for (const statistics of ['no statistics', 'after ANALYZE'] as const) {
      if (statistics === 'after ANALYZE') await withClient(postgres.url, (client) => client.query(`ANALYZE "${schema}".runs; ANALYZE "${schema}".run_tags`));
      const detail = `median of ${calls}, ${statistics}`;
      add(`listRuns, first page of 100, ${statistics}`, await medianMs(() => store.listRuns()), detail);
      add(`listRuns, status failed (1 run in 10), ${statistics}`, await medianMs(() => store.listRuns({ statuses: ['failed'] })), detail);
      add(`listRuns, a status no run has, ${statistics}`, await medianMs(() => store.listRuns({ statuses: ['queued'] })), `${detail}; runs_status_created from the status's newest run`);
      add(`getRun, ${statistics}`, await medianMs((index) => store.getRun(ids[index % ids.length] ?? '')), detail);
      add(`append of one event, awaited, ${statistics}`, await medianMs(async (index) => {
        const run = open[index % open.length];
        if (run === undefined) return;
        const record = nextRecord(run);
        await store.append({ runId: run.runId, records: [record], summary: { stepCount: run.seq } });
        run.seq += 1;
        run.prevHash = record.hash;
      }), `${detail}; one group, one transaction`);
    }
  } finally {
    await store.close();
    await dropSchema(postgres.url, schema);
  }
  return measures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const notes: string[] = [];
  await benchPostgresListing(notes);
  for (const note of notes) process.stdout.write(`  ${note}\n`);
}
