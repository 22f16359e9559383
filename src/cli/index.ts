export { runCli, usage } from './run-cli.ts';
export type { RunCliOptions } from './run-cli.ts';
