/**
 * `keelMiddleware`: LangChain agent middleware (`createAgent({ middleware: [keelMiddleware(…)] })`)
 * that runs the agent's loop inside one Keel run.
 *
 * - `wrapModelCall`: each model call is translated to Keel's request (what is journaled, reserved
 *   for and routed on), and LangChain's own call (the handler: the request's model with its tools
 *   bound) is put behind the deployment's governed route as a Keel model (handler-model.ts):
 *   routing, budget reserved before and settled after, fallback, bulkhead, breaker, retries
 *   honouring retry-after, attempt timeout. It runs as the engine's durable model step, journaled
 *   with usage, cost and latency; on a resumed run the recorded answer is returned and no model is
 *   called. The agent gets the answer as an AIMessage whose `response_metadata.keel` carries the cost.
 * - `wrapToolCall`: each tool call is decided by Keel before it runs (src/framework: the tool gate,
 *   Cedar, labels, scopes, constraints, rate limits, approvals), then run as the durable `tool-call`
 *   step with an idempotency key the tool reads with `idempotencyKeyOf(config)`. A refusal or a
 *   tool's failure reaches the model as a ToolMessage with `status: 'error'`, the way LangChain
 *   hands a tool's error to the model; the refused tool's code never ran.
 *
 * A failure of the model call (a budget stop, a breaker open) or of the run inside a tool (an
 * approval wait) ends the agent's loop with LangChain's MiddlewareError; `runAgentLoop` hands the
 * engine what is inside it, so the run ends as Keel ends any run.
 */
import type { AIMessage } from '@langchain/core/messages';
import { ToolMessage } from '@langchain/core/messages';
import type { ToolCall } from '@langchain/core/messages/tool';
import type { AgentMiddleware, ModelRequest, ToolCallRequest } from 'langchain';
import { createMiddleware } from 'langchain';
import type { AgentRuntime } from '../agent/index.ts';
import type { RunContext } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import type { GovernedToolCall, ToolGovernanceOptions } from '../framework/index.ts';
import { governToolCalls, throwIfRunInterrupted } from '../framework/index.ts';
import type { JsonValue, ToolExecutionContextV1 } from '../spec/index.ts';
import { HandlerKeelModel } from './handler-model.ts';
import { KeelChatModel } from './keel-chat-model.ts';
import { aiMessageOf, keelRequestOf } from './message-translation.ts';
import { keelToolExecution } from './tool-execution.ts';

export interface KeelMiddlewareOptions extends ToolGovernanceOptions {
  /** The run the calls belong to: the task function's context. */
  run: RunContext;
  /** The deployment's governance: `keel.runtime` (routes and prices from its config, budgets on its store, the rate limiter). */
  runtime: AgentRuntime;
  /**
   * A route of the config to call through; it must list the agent's model (by `name`), which stands
   * in for that entry. Default: the agent's model alone, as a route of one.
   */
  route?: string;
  /**
   * The agent's model's `provider:model` for prices and routes. Default: a Keel chat model's own
   * name (`sim:default`), else LangChain's (`ChatOpenAI` with `gpt-4o-mini` → `openai:gpt-4o-mini`).
   */
  name?: string;
  /** The journal's step name for each model call. Default `langchain:<name>`. */
  stepName?: string;
}

type ModelHandler = (request: ModelRequest) => Promise<AIMessage> | AIMessage;
type ToolHandler = (request: ToolCallRequest) => unknown;
interface ToolCallUnderWay {
  request: ToolCallRequest;
  handler: ToolHandler;
}

/** What a governed tool call journals: the ToolMessage's content, and `status` when the tool answered with an error. */
type JournaledToolOutput = { content: JsonValue; status?: 'error' };

export function keelMiddleware(options: KeelMiddlewareOptions): AgentMiddleware {
  const { run } = options;
  const governors = new Map<string, GovernedToolCall<ToolCallUnderWay>>();

  // One governor per tool name, made when the agent first calls it: the middleware is made before it knows the agent's tools.
  const governorFor = (name: string, description: string): GovernedToolCall<ToolCallUnderWay> => {
    let governor = governors.get(name);
    if (governor === undefined) {
      governor = governToolCalls<ToolCallUnderWay>([{ name, description, execute: (input, keel, call) => runTool(name, input, keel, call) }], options, 'langchain');
      governors.set(name, governor);
    }
    return governor;
  };

  return createMiddleware({
    name: 'keel',
    wrapModelCall: async (request, handler) => {
      // A run stopped inside a tool ends here, before another model call is paid for.
      throwIfRunInterrupted(run);
      const name = options.name ?? keelNameOf(request.model);
      const model = new HandlerKeelModel(handler as ModelHandler, request as ModelRequest, splitName(name));
      const governed = options.runtime.governedRoute(options.route ?? name, new Map([[name, model]]));
      const system = request.systemMessage.text === '' ? [] : [request.systemMessage];
      const keelRequest = keelRequestOf({ messages: [...system, ...request.messages], tools: request.tools, ...(request.toolChoice === undefined ? {} : { toolChoice: request.toolChoice }) });
      const result = await run.model(options.stepName ?? `langchain:${name}`, governed, keelRequest);
      return aiMessageOf(result);
    },
    wrapToolCall: async (request, handler) => {
      const call = request.toolCall;
      const description = typeof request.tool?.description === 'string' ? request.tool.description : '';
      try {
        const output = (await governorFor(call.name, description)(call.name, call.args, { request, handler: handler as ToolHandler })) as JournaledToolOutput;
        return new ToolMessage({ content: contentOf(output.content), tool_call_id: call.id ?? '', name: call.name, ...(output.status === undefined ? {} : { status: output.status }) });
      } catch (error) {
        // A refusal or the tool's own failure is the model's to see, as LangChain hands a tool's error to it.
        if (error instanceof KeelError && (error.code === 'tool-denied' || error.code === 'tool-error' || error.code === 'tool-timeout')) {
          return new ToolMessage({ content: error.message, tool_call_id: call.id ?? '', name: call.name, status: 'error' });
        }
        throw error;
      }
    },
  }) as AgentMiddleware;
}

/** Runs the tool the LangChain way (its handler: schema parsing, callbacks), handing it Keel's execution context. */
async function runTool(name: string, input: unknown, keel: ToolExecutionContextV1, call: ToolCallUnderWay | undefined): Promise<JournaledToolOutput> {
  if (call === undefined) throw new KeelError('usage-invalid', `${name} was called outside a LangChain tool call`);
  const toolCall: ToolCall = { ...call.request.toolCall, args: input as Record<string, unknown> };
  // The tool finds Keel's context on the tool call LangChain hands it (`config.toolCall`): idempotencyKeyOf(config).
  Object.defineProperty(toolCall, keelToolExecution, { value: keel, enumerable: true });
  const answer = await call.handler({ ...call.request, toolCall });
  if (!ToolMessage.isInstance(answer)) throw new KeelError('usage-invalid', `${name} answered with a LangChain Command; keel/langchain journals tools that answer with a message`);
  const content = answer.content as JsonValue;
  return answer.status === 'error' ? { content, status: 'error' } : { content };
}

/** The journaled content is the ToolMessage's own (a string, or LangChain's content blocks). */
function contentOf(content: JsonValue): ToolMessage['content'] {
  return content as ToolMessage['content'];
}

/** How Keel names a LangChain model for prices and routes: a Keel chat model by its Keel name, any other by LangChain's own tracing parameters. */
export function keelNameOf(model: unknown): string {
  if (model instanceof KeelChatModel) return model.keelName;
  const traced = typeof model === 'object' && model !== null && 'getLsParams' in model && typeof model.getLsParams === 'function' ? (model.getLsParams as (options: object) => { ls_provider?: unknown; ls_model_name?: unknown })({}) : undefined;
  if (typeof traced?.ls_provider === 'string' && typeof traced.ls_model_name === 'string' && traced.ls_model_name !== '') return `${traced.ls_provider}:${traced.ls_model_name}`;
  throw new KeelError('usage-invalid', 'keel/langchain cannot tell which model the agent calls (for its price and route): pass keelMiddleware({ name: "provider:model" })');
}

function splitName(name: string): { provider: string; modelId: string } {
  const separator = name.indexOf(':');
  return separator === -1 ? { provider: name, modelId: '' } : { provider: name.slice(0, separator), modelId: name.slice(separator + 1) };
}
