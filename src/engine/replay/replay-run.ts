import { KeelError } from '../../errors/index.ts';
import { canonicalJson, loadRun } from '../../journal/index.ts';
import { openSealedFieldsIn } from '../../redaction/index.ts';
import type { GenerateResultV1, JsonValue, LanguageModelV1, StoreV1 } from '../../spec/index.ts';
import type { TaskCatalog } from '../task-catalog.ts';
import type { ModelInputCheck } from './replay-context.ts';
import { ReplayContext } from './replay-context.ts';
import { ReplayStop } from './replay-stop.ts';

export interface ReplayReport {
  runId: string;
  task: string;
  taskVersion: string;
  /** True when every model input the code rebuilds now matches the recorded bytes. */
  matched: boolean;
  modelCalls: number;
  checks: ModelInputCheck[];
  firstDifference?: ModelInputCheck;
  /** Why replay stopped before the task function returned, when it did. */
  stoppedEarly?: string;
}

export interface CandidateReport {
  runId: string;
  task: string;
  candidate: string;
  recorded: { status: string; output: JsonValue | null; toolCalls: string[]; tokens: number };
  candidateRun: {
    completed: boolean;
    /** How the candidate's run would have ended; `unfinished` when replay could not go on without acting. */
    status: 'ok' | 'degraded' | 'failed' | 'escalated' | 'waiting' | 'unfinished';
    output: JsonValue | null;
    toolCalls: string[];
    tokens: number;
    stoppedBecause?: string;
  };
  changes: string[];
}

async function prepare(store: StoreV1, runId: string, tasks: TaskCatalog) {
  // Replayed with sealed fields opened; a redacted field replays as its marker, and shows as a difference.
  const { state } = await loadRun(store, runId, { open: (events) => openSealedFieldsIn(store, events) });
  if (!tasks.serves(state.task)) throw new KeelError('task-unknown', `run ${runId} is of task ${state.task}, which this process does not serve`);
  const task = tasks.find(state.task, state.taskVersion);
  if (task === undefined) {
    throw new KeelError('replay-divergence', `run ${runId} was recorded by ${state.task} version ${state.taskVersion}; this code serves ${tasks.versionsOf(state.task).join(', ')}`);
  }
  return { state, task };
}

/**
 * Rebuilds every model input of a recorded run by running its task against the journal, and
 * checks each byte for byte against what was sent. Nothing is executed and nothing is written.
 */
export async function replayRun(store: StoreV1, runId: string, tasks: TaskCatalog): Promise<ReplayReport> {
  const { state, task } = await prepare(store, runId, tasks);
  const context = new ReplayContext(state);
  let stoppedEarly: string | undefined;
  try {
    await task.run(context, state.input);
  } catch (error) {
    if (error instanceof ReplayStop) {
      if (!error.natural) stoppedEarly = error.reason;
    } else if (!(error instanceof KeelError) || error.code === 'replay-divergence') {
      stoppedEarly = error instanceof Error ? error.message : String(error);
    }
    // Otherwise a recorded failure surfaced just as it did in the run: the replay is complete.
  }
  const firstDifference = context.checks.find((check) => check.difference !== undefined);
  const report: ReplayReport = {
    runId,
    task: state.task,
    taskVersion: state.taskVersion,
    matched: firstDifference === undefined && stoppedEarly === undefined,
    modelCalls: context.checks.length,
    checks: context.checks,
  };
  if (firstDifference !== undefined) report.firstDifference = firstDifference;
  if (stoppedEarly !== undefined) report.stoppedEarly = stoppedEarly;
  return report;
}

/**
 * Re-runs a recorded run against another model. Model calls go to the candidate; tool calls are
 * answered from the journal when the recorded run made the very same call, and replay stops
 * (reporting why) at the first call it cannot answer without acting.
 */
export async function replayWithCandidate(
  store: StoreV1,
  runId: string,
  tasks: TaskCatalog,
  candidate: { name: string; model: LanguageModelV1 },
): Promise<CandidateReport> {
  const { state, task } = await prepare(store, runId, tasks);
  const calls: { step: number; name: string; result: GenerateResultV1 }[] = [];
  const context = new ReplayContext(state, { model: candidate.model, calls });
  let output: JsonValue | null = null;
  let completed = false;
  let stoppedBecause: string | undefined;
  let status: CandidateReport['candidateRun']['status'];
  try {
    output = await task.run(context, state.input);
    completed = true;
    status = context.confidence.length > 0 ? 'degraded' : 'ok';
  } catch (error) {
    stoppedBecause = error instanceof Error ? error.message : String(error);
    status = error instanceof ReplayStop ? (error.ending ?? 'unfinished') : 'failed';
  }
  const recordedTools = [...state.steps.values()].filter((step) => step.kind === 'tool-call').map((step) => `${step.name}(${canonicalJson(step.input ?? null)})`);
  const candidateTools = context.toolCalls.map((call) => `${call.name}(${canonicalJson(call.args)})`);
  const tokens = calls.reduce((sum, call) => sum + call.result.usage.inputTokens + call.result.usage.outputTokens, 0);
  const recordedOutput = state.end?.output ?? null;
  const changes: string[] = [];
  if (!completed) changes.push(`the candidate did not finish: ${stoppedBecause ?? 'unknown'}`);
  if (canonicalJson(recordedOutput) !== canonicalJson(output)) changes.push('the output differs');
  if (recordedTools.join('\n') !== candidateTools.join('\n')) changes.push(`tool calls differ: recorded ${recordedTools.length}, candidate ${candidateTools.length}`);
  const recordedTokens = state.usage.inputTokens + state.usage.outputTokens;
  if (recordedTokens !== tokens) changes.push(`tokens ${recordedTokens} → ${tokens}`);
  if (state.status !== status) changes.push(`status ${state.status} → ${status}`);
  const candidateRun: CandidateReport['candidateRun'] = { completed, status, output, toolCalls: candidateTools, tokens };
  if (stoppedBecause !== undefined) candidateRun.stoppedBecause = stoppedBecause;
  return {
    runId,
    task: state.task,
    candidate: candidate.name,
    recorded: { status: state.status, output: recordedOutput, toolCalls: recordedTools, tokens: recordedTokens },
    candidateRun,
    changes,
  };
}
