/**
 * The durable test's child process: one LangChain agent (refund, then look the order up, then
 * answer) under keelMiddleware in a Keel run on a SQLite file; refunds are kept in another file.
 *
 * Usage: node --conditions=keel-source durable-agent-child.fixture.ts <journal.db> <refunds.db> start|resume <runId>
 *
 * `start` begins the run and, inside `lookup_order` (after the refund), waits until both model
 * calls before it are in the journal on disk, prints `blocked` and waits for ever: the test kills
 * it there. `resume` continues the run and prints one JSON line: the outcome, how many model calls
 * the simulator answered live and how many lookups ran.
 */
import { DatabaseSync } from 'node:sqlite';
import { createKeel } from '../agent/index.ts';
import { parseEvent } from '../journal/index.ts';
import { SqliteStore } from '../store/index.ts';
import { newObservations, refundAgentTask } from './refund-agent.fixture.ts';

const [journalPath, refundsPath, mode, runId] = process.argv.slice(2);
if (journalPath === undefined || refundsPath === undefined || (mode !== 'start' && mode !== 'resume') || runId === undefined) {
  process.stderr.write('usage: durable-agent-child.fixture.ts <journal.db> <refunds.db> start|resume <runId>\n');
  process.exit(2);
}

const store = SqliteStore.open({ path: journalPath, durability: 'normal' });
const refunds = new DatabaseSync(refundsPath);
refunds.exec('CREATE TABLE IF NOT EXISTS refunds (order_id TEXT NOT NULL, idempotency_key TEXT NOT NULL)');
const observations = newObservations();
const keel = await createKeel({ store });

/** The model steps are journaled without waiting; the test wants both before the kill on disk, so it can count replays. */
async function untilModelCallsDurable(count: number): Promise<void> {
  for (;;) {
    const events = (await store.readJournal(runId as string)).map(parseEvent);
    if (events.filter((event) => event.type === 'step-end' && event.data.kind === 'model-call').length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

keel.engine.tasks.register(
  refundAgentTask({
    runtime: () => keel.runtime,
    plan: [
      { toolName: 'issue_refund', input: { orderId: 'A-1', amountCents: 5_000 } },
      { toolName: 'lookup_order', input: { orderId: 'A-1' } },
    ],
    answer: 'Refunded A-1; it shows as delivered.',
    observations,
    recordRefund: (orderId, key) => {
      refunds.prepare('INSERT INTO refunds (order_id, idempotency_key) VALUES (?, ?)').run(orderId, key);
    },
    ...(mode === 'start'
      ? {
          onLookup: async () => {
            await untilModelCallsDurable(2);
            process.stdout.write('blocked\n');
            await new Promise(() => undefined);
          },
        }
      : {}),
  }),
);

if (mode === 'start') {
  await keel.run('langchain-refunds', { message: 'Refund order A-1, then check it' }, { principal: 'ada', tenant: 'acme', runId });
  process.stderr.write('the run ended instead of blocking\n');
  process.exit(1);
}
// resumeAll takes over the runs of a dead worker of this machine at once (resume alone would wait out its lease).
const outcome = (await keel.engine.resumeAll()).find((resumed) => resumed.runId === runId);
if (outcome === undefined) {
  process.stderr.write(`run ${runId} was not resumed\n`);
  process.exit(1);
}
const ended = 'abandoned' in outcome ? { status: `abandoned: ${outcome.abandoned}`, reason: outcome.detail } : { status: outcome.status, reason: outcome.reason ?? null };
process.stdout.write(`${JSON.stringify({ ...ended, liveModelCalls: observations.liveModelCalls, lookups: observations.lookups, text: (outcome as { output?: { text?: string } }).output?.text ?? null })}\n`);
await keel.close();
await store.close();
refunds.close();
process.exit(0);
