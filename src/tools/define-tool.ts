import type { ToolV1 } from '../spec/index.ts';

/** Identity with inference: argument and result types come from the schemas, so `execute` is typed. */
export function defineTool<Input, Output>(tool: ToolV1<Input, Output>): ToolV1<Input, Output> {
  return tool;
}
