/**
 * `keel/langchain`: Keel inside LangChain JS agents (langchain@1 `createAgent`, @langchain/core@1).
 *
 * - `keelMiddleware({ run, runtime, policies, declarations })` for `createAgent({ middleware })`:
 *   every model call is a governed, journaled, durable model step of the run, and every tool call
 *   is decided by Keel before it runs, then run as a durable step with an idempotency key
 *   (keel-middleware.ts).
 * - `keelChatModel('sim:default')`: Keel's models (the simulator, its OpenAI and Anthropic
 *   adapters) as LangChain chat models; `langChainModelOf(model)` for one you built.
 * - `idempotencyKeyOf(config)` / `toolExecutionOf(config)`: what a tool reads from its config.
 * - `runAgentLoop(run, () => agent.invoke(…))`: the engine sees what stopped the run (a budget stop,
 *   an approval wait) rather than LangChain's wrapping of it.
 *
 * Inside a Keel run the loop is durable: a resumed run gets its recorded model answers and tool
 * outputs back instead of calling again, as long as the loop makes the same calls in the same order.
 */
export { keelMiddleware, keelNameOf } from './keel-middleware.ts';
export type { KeelMiddlewareOptions } from './keel-middleware.ts';
export { KeelChatModel, keelChatModel, langChainModelOf } from './keel-chat-model.ts';
export type { KeelChatModelCallOptions } from './keel-chat-model.ts';
export { idempotencyKeyOf, toolExecutionOf } from './tool-execution.ts';
export { runAgentLoop } from './run-agent-loop.ts';
export { throwIfRunInterrupted } from '../framework/index.ts';
export type { GovernedToolDeclaration } from '../framework/index.ts';
export type { KeelCallMetadata } from './message-translation.ts';
