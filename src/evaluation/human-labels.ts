/**
 * Human labels (`keel label RUN --score S --note N`). A label is its own small run of task
 * `label` whose journal holds one `score-record` naming the labelled run: the labelled run's
 * journal, ended and hash-chained, is never rewritten, and the label is audited like any run
 * (who gave it, when, anchored in the audit log). A later label of the same run supersedes an
 * earlier one; both stay in the journal.
 */
import { defineTask } from '../engine/index.ts';
import type { TaskDefinition } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import { loadRun } from '../journal/index.ts';
import type { JsonValue, RunRecordV1, StoreV1 } from '../spec/index.ts';

export const labelTaskName = 'label';
export const humanScorer = { name: 'human', version: '1' } as const;

export interface HumanLabel {
  score: number;
  by: string;
  note: string | null;
  /** The label's own run. */
  labelRun: string;
  time: string;
}

export interface LabelInput {
  [key: string]: JsonValue;
  run: string;
  cluster: string;
  score: number;
  note: string | null;
}

export function parseLabelScore(text: string | undefined): number {
  if (text === undefined) throw new KeelError('usage-invalid', 'keel label needs --score, a number from 0 (wrong) to 1 (right)');
  const score = /^(?:[01](?:\.\d+)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  if (!(score >= 0 && score <= 1)) throw new KeelError('usage-invalid', `--score takes a number from 0 (wrong) to 1 (right), got '${text}'`);
  return score;
}

/** The task a label is recorded by: one score-record, the principal who labelled as `by`. */
export const labelTask: TaskDefinition<LabelInput, JsonValue> = defineTask<LabelInput, JsonValue>({
  name: labelTaskName,
  version: '1',
  run(context, input) {
    context.record('score-record', {
      item: input.run,
      run: input.run,
      cluster: input.cluster,
      source: 'human',
      scores: [{ scorer: humanScorer.name, version: humanScorer.version, subject: 'recorded', score: input.score }],
      by: context.principal,
      ...(input.note === null ? {} : { note: input.note }),
    });
    return Promise.resolve({ run: input.run, score: input.score, note: input.note });
  },
});

/** Checks the run can be labelled (it exists and has ended) and returns the label run's input. */
export async function labelInputFor(store: StoreV1, runId: string, score: number, note: string | null): Promise<LabelInput> {
  const { state } = await loadRun(store, runId);
  if (state.task === labelTaskName) throw new KeelError('usage-invalid', `run ${runId} is itself a label; label the run it labels`);
  if (state.end === undefined) throw new KeelError('run-not-found', `run ${runId} is ${state.status}; only a run that has ended can be labelled`);
  const session = state.input !== null && typeof state.input === 'object' && !Array.isArray(state.input) ? state.input.session : undefined;
  return { run: runId, cluster: typeof session === 'string' ? `session:${session}` : runId, score, note };
}

/** The latest human label of every labelled run, read from the label runs' journals. */
export async function readHumanLabels(store: StoreV1): Promise<Map<string, HumanLabel>> {
  const labels = new Map<string, HumanLabel>();
  const runs: RunRecordV1[] = [];
  let after: RunRecordV1 | undefined;
  for (;;) {
    const page = await store.listRuns({ task: labelTaskName, statuses: ['ok'], limit: 500, ...(after === undefined ? {} : { after }) });
    runs.push(...page);
    if (page.length < 500) break;
    after = page.at(-1);
  }
  // Oldest first, so a later label replaces an earlier one.
  for (const run of runs.toReversed()) {
    const { events } = await loadRun(store, run.id);
    for (const event of events) {
      if (event.type !== 'score-record' || event.data.source !== 'human') continue;
      const score = event.data.scores.find((entry) => entry.scorer === humanScorer.name)?.score;
      if (score === undefined) continue;
      labels.set(event.data.run, { score, by: event.data.by ?? run.principal, note: event.data.note ?? null, labelRun: run.id, time: event.time });
    }
  }
  return labels;
}
