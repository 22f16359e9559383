/**
 * `keel audit verify` throughput: the real command, in its own process, over a SQLite store of
 * realistic ~350-byte events; events/s of the whole command, start-up included.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/index.ts';
import type { Measure } from './journal-bench.ts';
import { fillStore } from './journal-bench.ts';

const bin = join(import.meta.dirname, '..', 'bin', 'keel.js');

export async function benchAuditVerify(shape = { runs: 1_000, eventsPerRun: 300 }, rounds = 3): Promise<Measure> {
  const folder = mkdtempSync(join(tmpdir(), 'keel-bench-verify-'));
  const database = join(folder, 'keel.db');
  try {
    const store = SqliteStore.open({ path: database, durability: 'normal' });
    await fillStore(store, shape);
    await store.close();
    const events = shape.runs * shape.eventsPerRun;
    const samples: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const began = performance.now();
      const result = spawnSync(process.execPath, [bin, 'audit', 'verify', '--db', database, '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      const seconds = (performance.now() - began) / 1000;
      const report = JSON.parse(result.stdout) as { ok: boolean; events: number };
      if (result.status !== 0 || !report.ok || report.events !== events) throw new Error(`keel audit verify did not verify the bench store: ${result.stdout}${result.stderr}`);
      samples.push(events / seconds);
    }
    const value = [...samples].sort((left, right) => left - right)[Math.floor(samples.length / 2)] as number;
    const detail = `keel audit verify over ${shape.runs.toLocaleString('en-US')} runs x ${shape.eventsPerRun} events (${events.toLocaleString('en-US')} ~350-byte events) on SQLite, whole process (start-up, reading, hashing, run-index check); median of ${rounds}`;
    process.stdout.write(`  audit verify: ${Math.round(value).toLocaleString('en-US')} events/s  (${detail})\n`);
    return { name: 'audit verify: events checked per second', value: Math.round(value), unit: 'events/s', detail };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
