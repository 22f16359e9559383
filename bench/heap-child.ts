/**
 * Started by governed-call-bench.ts with --expose-gc: heap after GC before and after many governed
 * calls against the loopback server at argv[2]. Prints one JSON line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/index.ts';
import { governedRunner, openAIRoute } from './governed-call-bench.ts';

const [baseURL, callsText] = process.argv.slice(2);
const collect = (globalThis as { gc?: () => void }).gc;
if (baseURL === undefined || collect === undefined) throw new Error('usage: node --expose-gc bench/heap-child.ts BASE_URL CALLS');
const calls = Number(callsText ?? 100_000);
const perRun = 100;
const concurrency = 16;

const heapAfterGc = (): number => {
  // Twice: the first pass can leave objects whose finalisers free more.
  collect();
  collect();
  return process.memoryUsage().heapUsed;
};

const folder = mkdtempSync(join(tmpdir(), 'keel-bench-heap-'));
const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'full' });
try {
  const governed = governedRunner(store, openAIRoute(baseURL).model);
  const warmupCalls = concurrency * perRun;
  await governed(concurrency, perRun);
  const beforeBytes = heapAfterGc();
  const began = performance.now();
  for (let done = 0; done < calls; done += concurrency * perRun) await governed(concurrency, Math.min(perRun, Math.ceil((calls - done) / concurrency)));
  const seconds = (performance.now() - began) / 1000;
  const afterBytes = heapAfterGc();
  process.stdout.write(`${JSON.stringify({ warmupCalls, beforeBytes, afterBytes, calls, seconds })}\n`);
} finally {
  await store.close();
  rmSync(folder, { recursive: true, force: true });
}
