/**
 * The durable test's child process: one AI SDK refund loop (refund, then look the order up, then
 * answer) in a Keel run on a SQLite file.
 *
 * Usage: node --conditions=keel-source durable-loop-child.fixture.ts <journal.db> <refunds.db> start|start-in-refund|resume <runId>
 *
 * `start` begins the run and, inside `lookup_order` (after the refund), waits until everything
 * before it is in the journal on disk, prints `blocked` and waits for ever: the test kills it there.
 * `start-in-refund` stops the same way inside `issue_refund`, after the refund is recorded.
 * `resume` continues the run and prints one JSON line: the outcome and how many model calls the
 * simulator answered live.
 */
import { createKeel } from '../agent/index.ts';
import { parseEvent } from '../journal/index.ts';
import { SqliteStore } from '../store/index.ts';
import { newObservations, RefundLedger, refundLoopTask } from './refund-loop.fixture.ts';

const [journalPath, refundsPath, mode, runId] = process.argv.slice(2);
if (journalPath === undefined || refundsPath === undefined || (mode !== 'start' && mode !== 'start-in-refund' && mode !== 'resume') || runId === undefined) {
  process.stderr.write('usage: durable-loop-child.fixture.ts <journal.db> <refunds.db> start|start-in-refund|resume <runId>\n');
  process.exit(2);
}

const store = SqliteStore.open({ path: journalPath, durability: 'normal' });
const ledger = new RefundLedger(refundsPath);
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
  refundLoopTask({
    runtime: () => keel.runtime,
    ledger,
    plan: [
      { toolName: 'issue_refund', input: { orderId: 'A-1', amountCents: 5_000 } },
      { toolName: 'lookup_order', input: { orderId: 'A-1' } },
    ],
    answer: 'Refunded A-1; it shows as delivered.',
    observations,
    ...(mode === 'start'
      ? {
          onLookup: async () => {
            await untilModelCallsDurable(2);
            process.stdout.write('blocked\n');
            await new Promise(() => undefined);
          },
        }
      : {}),
    ...(mode === 'start-in-refund'
      ? {
          // The refund's step start was committed before it ran (it is not idempotent): nothing to wait for.
          onRefund: async () => {
            process.stdout.write('blocked\n');
            await new Promise(() => undefined);
          },
        }
      : {}),
  }),
);

if (mode !== 'resume') {
  await keel.run('ai-sdk-refunds', { message: 'Refund order A-1, then check it' }, { principal: 'ada', tenant: 'acme', runId });
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
process.stdout.write(`${JSON.stringify({ ...ended, liveModelCalls: observations.liveModelCalls, lookups: observations.lookups })}\n`);
await keel.close();
await store.close();
ledger.close();
process.exit(0);
