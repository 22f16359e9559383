/**
 * The crash test's child process: resumes every unfinished payout run, then exits 0. The test
 * kills it with SIGKILL at random points and starts it again.
 *
 * Usage: node test/crash/crash-worker.ts <journal.db> <bank.db> [full|normal]
 *
 * Prints `ready` once its stores are open (so the test can tell kills during start-up from kills
 * during work) and `settled <n>` when it has drained the queue.
 */
import { Engine } from '../../src/engine/index.ts';
import { SqliteStore } from '../../src/store/index.ts';
import type { SqliteDurability } from '../../src/store/index.ts';
import { Bank, payoutTask } from './payout-task.ts';

const [journalPath, bankPath, durabilityArgument = 'full'] = process.argv.slice(2);

if (journalPath === undefined || bankPath === undefined || (durabilityArgument !== 'full' && durabilityArgument !== 'normal')) {
  // A bare `node --test` runs every file under test/ as a test; this one is not, so step aside.
  if (process.env.NODE_TEST_CONTEXT !== undefined) process.exit(0);
  process.stderr.write('usage: crash-worker.ts <journal.db> <bank.db> [full|normal]\n');
  process.exit(2);
}

const durability: SqliteDurability = durabilityArgument;
const store = SqliteStore.open({ path: journalPath, durability });
const bank = Bank.open(bankPath);
const engine = new Engine({ store, tasks: [payoutTask(bank)] });
process.stdout.write('ready\n');
const settled = await engine.resumeAll({ concurrency: 4 });
await store.close();
bank.close();
process.stdout.write(`settled ${settled.length}\n`);
process.exit(0);
