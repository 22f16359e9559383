/**
 * `governTools`: AI SDK tools whose every `execute` is decided by Keel before it runs, on the
 * agent loop's own path: the tool gate (the resource and its tenant, Cedar, information-flow
 * labels) and then `callTool` (scopes, constraints, per-tenant rate limits, approval rules), each
 * decision a journaled `tool-decision` step; an allowed call runs as the durable `tool-call` step
 * with its idempotency key, handed to `execute` as `options.idempotencyKey`. On a resumed run a
 * recorded call returns its recorded output and does not run again.
 *
 * A refusal throws a `tool-denied` error: the AI SDK hands it to the model as the tool's error
 * and the loop goes on, while the tool's code never ran. A person's approval parks the run
 * (`waiting`) and continues it after `keel approve`. The AI SDK validates the input against the
 * tool's schema before `execute`; Keel does not validate it again, and journals what `execute`
 * returns as JSON.
 */
import type { ToolExecutionOptions, ToolSet } from 'ai';
import { KeelError } from '../errors/index.ts';
import type { FrameworkTool, ToolGovernanceOptions } from '../framework/index.ts';
import { governToolCalls } from '../framework/index.ts';
import type { ToolExecutionContextV1 } from '../spec/index.ts';

export type { GovernedToolDeclaration } from '../framework/index.ts';

export type GovernToolsOptions = ToolGovernanceOptions;

/** What a governed tool's `execute` is handed: the AI SDK's options plus Keel's. */
export type GovernedToolExecutionOptions = ToolExecutionOptions<unknown> & {
  /** `run:epoch:step`: stable across retries and resumes of this call; pass it to the system the tool changes. */
  idempotencyKey: string;
  keel: ToolExecutionContextV1;
};

/** The idempotency key Keel handed a governed tool's `execute` (in its options). */
export function idempotencyKeyOf(options: ToolExecutionOptions<unknown>): string {
  const key = (options as Partial<GovernedToolExecutionOptions>).idempotencyKey;
  if (key === undefined) throw new KeelError('usage-invalid', 'this tool was not called through governTools, so it has no idempotency key');
  return key;
}

type AnyExecute = (input: unknown, options: ToolExecutionOptions<unknown>) => unknown;

export function governTools<Tools extends ToolSet>(tools: Tools, options: GovernToolsOptions): Tools {
  const frameworkTools: FrameworkTool<ToolExecutionOptions<unknown>>[] = [];
  const executed = new Map<string, unknown>();
  for (const [name, tool] of Object.entries(tools)) {
    const execute = (tool as { execute?: AnyExecute }).execute;
    // A tool without execute runs nowhere here (the client runs it, or a provider does): nothing to govern.
    if (execute === undefined) continue;
    frameworkTools.push({
      name,
      description: typeof tool.description === 'string' ? tool.description : '',
      execute: async (args, context, current) => {
        const framework = current ?? { toolCallId: context.idempotencyKey, messages: [], context: undefined };
        const signals = [context.signal, framework.abortSignal].filter((signal) => signal !== undefined);
        const handed: GovernedToolExecutionOptions = { ...framework, abortSignal: AbortSignal.any(signals), idempotencyKey: context.idempotencyKey, keel: context };
        return await lastValue(execute(args, handed));
      },
    });
    executed.set(name, tool);
  }
  const call = governToolCalls(frameworkTools, options, 'ai-sdk');
  const governed: Record<string, unknown> = {};
  for (const [name, tool] of Object.entries(tools)) {
    governed[name] = executed.has(name) ? { ...tool, execute: (input: unknown, executionOptions: ToolExecutionOptions<unknown>) => call(name, input, executionOptions) } : tool;
  }
  return governed as Tools;
}

/** A tool may stream preliminary results; the last one is its output. */
async function lastValue(value: unknown): Promise<unknown> {
  if (typeof value === 'object' && value !== null && Symbol.asyncIterator in value) {
    let last: unknown;
    for await (const item of value as AsyncIterable<unknown>) last = item;
    return last;
  }
  return await value;
}
