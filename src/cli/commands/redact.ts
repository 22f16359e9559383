import { createKeel } from '../../agent/index.ts';
import { KeelError } from '../../errors/index.ts';
import type { RedactionResult } from '../../redaction/index.ts';
import { checkSubjectKnown, redactionTask } from '../../redaction/index.ts';
import { openStore } from '../../store/index.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { decider } from '../decider.ts';

/**
 * `keel redact --subject ID [--reason …] [--as NAME]`: destroys the subject's key (crypto-shredding),
 * journaled as a run of its own (task `subject-redaction`). A repeat is harmless and says so.
 */
export const redactCommand: Command = async (context) => {
  const subject = context.options.subject ?? '';
  const reason = context.options.reason ?? 'erasure requested';
  const by = decider(context.options.as, context.environment);
  const store = await openStore({ database: context.options.db, create: false, environment: context.environment });
  try {
    await checkSubjectKnown(store, subject);
    const task = redactionTask(store);
    const keel = await createKeel({ store, environment: context.environment, tasks: [task] });
    try {
      const outcome = await keel.run(task.name, { subject, reason }, { principal: by });
      if (outcome.status !== 'ok') throw new KeelError('internal', `redaction of ${subject} ended ${outcome.status}: ${outcome.reason ?? 'no reason given'}`);
      const result = outcome.output as RedactionResult;
      if (context.options.json) printJson(context, { database: store.location, redactionRun: outcome.runId, ...result });
      else {
        const what = result.keyId === null ? `subject ${subject} was already redacted: nothing left to destroy` : `redacted subject ${subject}: key ${result.keyId} destroyed by ${by} (${reason})`;
        const scrub = result.scrubbed ? '' : '; an older copy is still in the write-ahead log because another process is reading: run keel redact again to clear it';
        context.output.stdout(`${what}${scrub}; recorded as run ${outcome.runId}\n`);
      }
    } finally {
      await keel.close();
    }
  } finally {
    await store.close();
  }
  return 0;
};
