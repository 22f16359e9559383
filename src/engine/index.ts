export { Engine } from './engine.ts';
export type { EngineOptions, RunRequest, WorkOptions } from './engine.ts';
export type { RunAbandoned } from './execute-run.ts';
export type { RunOutcome } from './run-outcome.ts';
export { defineTask } from './task.ts';
export type { RunContext, StepInfo, StepOptions, TaskDefinition, ToolOptions } from './task.ts';
export { isDeadLocalOwner, newWorkerId } from './worker-identity.ts';
export { replayRun, replayWithCandidate } from './replay/index.ts';
export type { CandidateReport, ModelInputCheck, ReplayReport } from './replay/index.ts';
