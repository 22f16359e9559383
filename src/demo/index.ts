export { defaultDemoGovernance, demoRequests, demoTasks, runDemo } from './run-demo.ts';
export type { SupportGovernance, SupportTaskOptions, SupportTaskVersion } from './support-agent-task.ts';
export type { DemoRun } from './run-demo.ts';
export { PaymentsLedger } from './payments-ledger.ts';
export { supportAgentTask } from './support-agent-task.ts';
export type { SupportAnswer, SupportRequest } from './support-agent-task.ts';
export { supportScript } from './support-script.ts';
