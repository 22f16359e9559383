/**
 * `keel/ai-sdk`: Keel inside the Vercel AI SDK (ai@7, @ai-sdk/provider@4, LanguageModelV4).
 *
 * - `keelModel('sim:default')` / `createKeelProvider(...)`: Keel's models (the simulator, its
 *   OpenAI and Anthropic adapters) as AI SDK models; `aiSdkModelOf(model)` for one you built.
 * - `keelMiddleware({ run, runtime })` for `wrapLanguageModel`: every call of any AI SDK model is a
 *   governed, journaled, durable model step of the run (keel-middleware.ts).
 * - `governTools(tools, { run, runtime, policies, declarations })`: every `execute` decided by
 *   Keel before it runs, then run as a durable step with an idempotency key (govern-tools.ts).
 * - `throwIfRunInterrupted(run)`: after the loop, rethrows a stop of the run that happened inside
 *   a tool, which the AI SDK only saw as a tool error (run-session.ts).
 *
 * Inside a Keel run the loop is durable: a resumed run gets its recorded model answers and tool
 * outputs back instead of calling again, as long as the loop makes the same calls in the same order.
 */
export { aiSdkModelOf } from './keel-language-model.ts';
export { createKeelProvider, keelModel } from './keel-provider.ts';
export type { KeelProvider } from './keel-provider.ts';
export { keelMiddleware } from './keel-middleware.ts';
export type { KeelMiddlewareOptions } from './keel-middleware.ts';
export { governTools, idempotencyKeyOf } from './govern-tools.ts';
export type { GovernedToolDeclaration, GovernedToolExecutionOptions, GovernToolsOptions } from './govern-tools.ts';
export { throwIfRunInterrupted } from '../framework/index.ts';
export { KeelApiCallError } from './ai-sdk-error.ts';
export type { KeelCallMetadata } from './generate-result.ts';
