/**
 * `governTools(tools, { run, runtime, policies, declarations })`: Agents SDK function tools whose
 * every invocation is decided by Keel before the tool's code runs, on the agent loop's own path
 * (src/framework: the tool gate with Cedar, tenants and information-flow labels, then scopes,
 * constraints, per-tenant rate limits and approval rules, each decision a journaled
 * `tool-decision` step); an allowed call runs as the durable `tool-call` step, and the tool's own
 * `invoke` (the SDK's parsing, `execute`, its error function) runs inside it. `execute` reads the
 * step's idempotency key with `idempotencyKeyOf(details)`. On a resumed run a recorded call
 * returns its recorded output and does not run again.
 *
 * A refusal goes back to the model as the tool's output, the way the SDK hands a tool's error to
 * the model, and marks the SDK's function span with the error; the loop goes on and the tool's
 * code never ran. A person's approval parks the run (`waiting`) and continues it after
 * `keel approve`. A stop of the run inside a tool fails the SDK's loop with its ToolCallError;
 * `throwIfRunInterrupted(run)` after the loop rethrows what stopped the run, for the engine.
 * The SDK's own `needsApproval`, guardrails and timeouts still apply, before Keel is asked.
 */
import type { FunctionTool, RunContext as AgentsRunContext, Tool } from '@openai/agents';
import { getCurrentSpan } from '@openai/agents';
import { KeelError } from '../errors/index.ts';
import type { ToolGovernanceOptions } from '../framework/index.ts';
import { governToolCalls } from '../framework/index.ts';
import { parseToolArguments } from '../models/index.ts';
import type { JsonValue, ToolExecutionContextV1 } from '../spec/index.ts';
import { bindCurrentTrace } from './trace-processor.ts';

export type GovernToolsOptions = ToolGovernanceOptions;

/** What the SDK hands a function tool's `invoke` and `execute` beside the input: the call, its signal. */
export type ToolCallDetails = NonNullable<Parameters<FunctionTool['invoke']>[2]>;

/** The SDK's invocation Keel runs inside the tool step. */
interface Invocation {
  runContext: AgentsRunContext;
  input: string;
  details: ToolCallDetails | undefined;
}

type FunctionToolOf = Extract<Tool, { type: 'function' }>;

const executions = new WeakMap<object, ToolExecutionContextV1>();

/** The idempotency key of the Keel tool step running this call (pass it to the system the tool changes). */
export function idempotencyKeyOf(details: ToolCallDetails | undefined): string {
  const execution = details === undefined ? undefined : executions.get(details);
  if (execution === undefined) throw new KeelError('usage-invalid', 'this tool was not called through governTools, so it has no idempotency key');
  return execution.idempotencyKey;
}

/** Keel's execution context of the tool step running this call: its idempotency key and abort signal. */
export function toolExecutionOf(details: ToolCallDetails | undefined): ToolExecutionContextV1 | undefined {
  return details === undefined ? undefined : executions.get(details);
}

/** Refusals the model is told about; anything else is the run's or the tool's failure and propagates. */
const toldToModel = new Set(['tool-denied', 'tool-timeout']);

export function governTools<Tools extends readonly Tool[]>(tools: Tools, options: GovernToolsOptions): Tools {
  const functions = tools.filter((tool): tool is FunctionToolOf => tool.type === 'function');
  const call = governToolCalls<Invocation>(
    functions.map((tool) => ({
      name: tool.name,
      description: tool.description,
      execute: async (_input: unknown, execution: ToolExecutionContextV1, invocation: Invocation | undefined) => {
        if (invocation === undefined) throw new KeelError('internal', `${tool.name} ran without the SDK's invocation`);
        // The same details object reaches `execute`, so the key can be looked up from it there.
        const details: ToolCallDetails = invocation.details ?? {};
        executions.set(details, execution);
        const output: unknown = await tool.invoke(invocation.runContext, invocation.input, details);
        return output;
      },
    })),
    options,
    'openai-agents',
  );
  return tools.map((tool) => {
    if (tool.type !== 'function') return tool;
    const governed: FunctionToolOf = {
      ...tool,
      invoke: async (runContext: AgentsRunContext, input: string, details?: ToolCallDetails) => {
        bindCurrentTrace(options.run);
        try {
          return await call(tool.name, parseToolArguments(input), { runContext, input, details });
        } catch (error) {
          if (!(error instanceof KeelError) || !toldToModel.has(error.code)) throw error;
          getCurrentSpan()?.setError({ message: `Keel refused the call of ${tool.name}`, data: { code: error.code, reason: reasonOf(error) } });
          return `Keel refused this call: ${error.message}`;
        }
      },
    };
    return governed;
  }) as unknown as Tools;
}

function reasonOf(error: KeelError): JsonValue {
  const reason = error.details?.reason;
  return typeof reason === 'string' ? reason : error.code;
}
