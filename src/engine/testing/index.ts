export type { RunLeftMidCall } from './run-left-mid-call.ts';
export { leaveRunMidCall } from './run-left-mid-call.ts';
