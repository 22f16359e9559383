import type { ChainVerdict } from '../../journal/index.ts';
import { verifyChain, verifyStoredChain } from '../../journal/verify.ts';
import type { StoreV1 } from '../../spec/index.ts';
import { openStore } from '../../store/open-store.ts';
import { SqliteStore } from '../../store/sqlite/index.ts';
import { checkAuditLog, loadAuditVerifyingKey } from '../audit-log-check.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { count } from '../format/text.ts';

/** Recomputes every run's hash chain; exits 1 naming the first event of each run that fails. */
export const auditVerifyCommand: Command = async (context) => {
  const verifyingKey = await loadAuditVerifyingKey(context);
  const store = await openStore({ database: context.options.db, create: false, readOnly: true, environment: context.environment });
  try {
    const failures: { runId: string; seq: number; type: string; problem: string }[] = [];
    let events = 0;
    const runIds = await store.listRunIds();
    for (const runId of runIds) {
      const verdict = await verifyRun(store, runId);
      events += verdict.events;
      if (!verdict.ok) failures.push({ runId, seq: verdict.seq, type: verdict.type, problem: verdict.problem });
      else {
        // The run index must agree with the journal it summarises.
        const run = await store.getRun(runId);
        if (run !== undefined && (run.lastSeq !== verdict.events || run.lastHash !== verdict.lastHash)) {
          failures.push({ runId, seq: run.lastSeq, type: 'run-index', problem: `the run index says the journal ends at event ${run.lastSeq}, but it ends at ${verdict.events}` });
        }
      }
    }
    const audit = await checkAuditLog(context, store, verifyingKey);
    const ok = failures.length === 0 && audit.ok;
    if (context.options.json) {
      printJson(context, { database: store.location, ok, runs: runIds.length, events, failures, audit: audit.report });
    } else if (ok) {
      context.output.stdout(`verified ${count(runIds.length)} runs, ${count(events)} events: every hash chain is intact\n`);
      audit.print();
    } else {
      for (const failure of failures) {
        context.output.stderr(`keel: audit failed: run ${failure.runId} event ${failure.seq} (${failure.type}): ${failure.problem}\n`);
      }
      audit.print();
      const failedRuns = new Set([...failures.map((failure) => failure.runId), ...audit.failedRuns]).size;
      context.output.stdout(`${failedRuns} of ${count(runIds.length)} runs do not verify${audit.logFailures > 0 ? '; the audit log does not verify' : ''}\n`);
    }
    return ok ? 0 : 1;
  } finally {
    await store.close();
  }
};

/** SQLite hands over the stored text, hashed as it is; other stores their parsed records. */
async function verifyRun(store: StoreV1, runId: string): Promise<ChainVerdict> {
  return store instanceof SqliteStore ? verifyStoredChain(await store.readJournalText(runId)) : verifyChain(await store.readJournal(runId));
}
