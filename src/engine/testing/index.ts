export type { RunLeftMidCall } from './run-left-mid-call.ts';
export { leaveRunMidCall } from './run-left-mid-call.ts';
// A run written for a task must carry the task's configuration hash, or the engine will not resume it.
export { taskConfigHash } from '../task-config-hash.ts';
