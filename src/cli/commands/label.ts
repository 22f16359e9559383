import { createKeel } from '../../agent/index.ts';
import { labelInputFor, labelTask, parseLabelScore } from '../../evaluation/index.ts';
import { openStore } from '../../store/index.ts';
import type { Command } from '../command.ts';
import { printJson } from '../command.ts';
import { decider } from '../decider.ts';

/**
 * `keel label RUN --score S [--note N] [--as NAME]`: a person's judgement of a run, recorded as a
 * run of its own (task `label`) holding one score-record; the labelled run is not touched.
 */
export const labelCommand: Command = async (context) => {
  const runId = context.positionals[0] ?? '';
  const score = parseLabelScore(context.options.score);
  const note = context.options.note ?? null;
  const by = decider(context.options.as, context.environment);
  const store = await openStore({ database: context.options.db, create: false, environment: context.environment });
  try {
    const input = await labelInputFor(store, runId, score, note);
    const keel = await createKeel({ store, environment: context.environment, tasks: [labelTask] });
    try {
      const outcome = await keel.run(labelTask.name, input, { principal: by });
      if (context.options.json) printJson(context, { database: store.location, labelRun: outcome.runId, run: runId, score, note, by });
      else context.output.stdout(`labelled ${runId} ${score} by ${by}${note === null ? '' : ` (${note})`}: recorded as run ${outcome.runId}\n`);
    } finally {
      await keel.close();
    }
  } finally {
    await store.close();
  }
  return 0;
};
