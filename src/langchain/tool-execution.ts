/**
 * How a governed LangChain tool reads what Keel hands it. LangChain passes a tool the tool call it
 * answers (`config.toolCall`, beside the tool's input); the middleware puts Keel's execution
 * context on that call under a symbol, so it is seen by the tool and by nothing LangChain
 * serialises (symbol keys are not JSON).
 */
import { KeelError } from '../errors/index.ts';
import type { ToolExecutionContextV1 } from '../spec/index.ts';

export const keelToolExecution: unique symbol = Symbol.for('keel.langchain.tool-execution');

/** Keel's context for the call under way (idempotency key, run, signal), from the tool's LangChain config. */
export function toolExecutionOf(config: unknown): ToolExecutionContextV1 {
  const toolCall = typeof config === 'object' && config !== null && 'toolCall' in config ? config.toolCall : undefined;
  const execution = typeof toolCall === 'object' && toolCall !== null && keelToolExecution in toolCall ? (toolCall as { [keelToolExecution]: ToolExecutionContextV1 })[keelToolExecution] : undefined;
  if (execution === undefined) throw new KeelError('usage-invalid', 'this tool was not called through keelMiddleware, so it has no Keel execution context (pass the tool function its second argument, the config)');
  return execution;
}

/** The idempotency key of the call under way: `run:epoch:step`, stable across retries and resumes; pass it to the system the tool changes. */
export function idempotencyKeyOf(config: unknown): string {
  return toolExecutionOf(config).idempotencyKey;
}
