export type { CandidateReport, ReplayReport } from './replay-run.ts';
export { replayRun, replayWithCandidate } from './replay-run.ts';
export type { ModelInputCheck } from './replay-context.ts';
