import type { ErrorData } from '../errors/index.ts';
import { isErrorCode, KeelError } from '../errors/index.ts';
import type { StepKind, StepRecord } from '../journal/index.ts';

/** A step's failure as the task sees it, live and on replay alike: rebuilt from journal data. */
export function errorFromData(error: ErrorData): KeelError {
  const code = isErrorCode(error.code) ? error.code : 'step-threw';
  const details = code === error.code ? error.details : { ...error.details, recordedCode: error.code };
  return new KeelError(code, error.message, details === undefined ? { retryable: error.retryable } : { retryable: error.retryable, details });
}

export function divergenceError(options: {
  runId: string;
  task: string;
  taskVersion: string;
  step: number;
  name: string;
  kind: StepKind;
  recorded: StepRecord;
}): KeelError {
  const { runId, task, taskVersion, step, name, kind, recorded } = options;
  return new KeelError(
    'replay-divergence',
    `run ${runId} diverged from its journal at step ${step}: the code now calls ${kind} '${name}' where the journal recorded ${recorded.kind} '${recorded.name}'. ` +
      `Check that the code of task ${task} version ${taskVersion} is what recorded this run; to change a task's steps, give it a new version so old runs keep the old code.`,
    { details: { step, expected: { name: recorded.name, kind: recorded.kind }, actual: { name, kind } } },
  );
}
