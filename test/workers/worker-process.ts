/**
 * The multi-worker test's child process: one Keel worker against the shared PostgreSQL store.
 *
 * Usage: node test/workers/worker-process.ts <pg-url> <keel-schema> <ledger-schema> <lease-ms> <name> [hold-ms]
 *
 * Opens the store and the ledger, prints `ready <worker-id>`, then waits for a line `go` on stdin
 * (so the test can start two workers at the same moment), and works until no run is left queued
 * or running. `Engine.work({ untilDrained: true })` returns as soon as nothing is *claimable*,
 * which is also the case while another worker's unexpired lease holds a run; this process polls
 * again until those runs are finished or their leases expire and it takes them over. It then
 * prints `settled <n> abandoned <n>` and exits 0.
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Engine, newWorkerId } from '../../src/engine/index.ts';
import { PostgresStore } from '../../src/store/index.ts';
import { Ledger, ledgerTask } from './ledger-task.ts';

const [url, schema, ledgerSchema, leaseText, name, holdText = '0'] = process.argv.slice(2);
const leaseMs = Number(leaseText);
const holdMs = Number(holdText);

if (url === undefined || schema === undefined || ledgerSchema === undefined || name === undefined || !(leaseMs > 0) || !(holdMs >= 0)) {
  // A bare `node --test` runs every file under test/ as a test; this one is not, so step aside.
  if (process.env.NODE_TEST_CONTEXT !== undefined) process.exit(0);
  process.stderr.write('usage: worker-process.ts <pg-url> <keel-schema> <ledger-schema> <lease-ms> <name> [hold-ms]\n');
  process.exit(2);
}

const pollMs = 50;
const store = await PostgresStore.open({ url, schema });
const ledger = Ledger.open(url, ledgerSchema);
// A fresh Keel worker id (unique to this process start) with a readable name at the end.
const workerId = `${newWorkerId()}/${name}`;
const engine = new Engine({ store, tasks: [ledgerTask(ledger, { worker: workerId, holdMs })], workerId, leaseMs });

process.stdout.write(`ready ${workerId}\n`);
await waitForGo();

let settled = 0;
let abandoned = 0;
for (;;) {
  await engine.work({
    concurrency: 4,
    pollMs,
    untilDrained: true,
    onSettled: (result) => {
      if ('abandoned' in result) {
        abandoned += 1;
        process.stderr.write(`abandoned ${result.runId}: ${result.abandoned} ${result.detail}\n`);
      } else {
        settled += 1;
      }
    },
  });
  const left = await store.listRuns({ statuses: ['queued', 'running'], limit: 1 });
  if (left.length === 0) break;
  await sleep(pollMs);
}

await store.close();
await ledger.close();
process.stdout.write(`settled ${settled} abandoned ${abandoned}\n`);
process.exit(0);

function waitForGo(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  return new Promise((resolve, reject) => {
    const closed = () => reject(new Error('stdin closed before `go`'));
    lines.once('close', closed);
    lines.on('line', (line) => {
      if (line.trim() !== 'go') return;
      lines.off('close', closed);
      lines.close();
      resolve();
    });
  });
}
