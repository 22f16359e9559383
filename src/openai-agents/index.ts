/**
 * `keel/openai-agents`: Keel inside the OpenAI Agents SDK (`@openai/agents` 0.20).
 *
 * - `keelModelProvider({ run, runtime })`: Keel as the SDK's model provider. An agent's model name
 *   (a config route, `sim:default`, `openai:gpt-4o-mini`) is the deployment's governed model, and
 *   every call of the SDK's loop is a journaled, priced, durable model step of the run.
 * - `governTools(tools, { run, runtime, policies, declarations })`: every function tool's call is
 *   decided by Keel before it runs (Cedar, tenants, labels, scopes, rate limits, approvals) and run
 *   as a durable tool step with an idempotency key (`idempotencyKeyOf(details)`); a refusal goes
 *   back to the model as the tool's output.
 * - `KeelTraceProcessor`: a tracing processor writing the SDK's spans into the journal of the run
 *   they belong to, as `span-end` events.
 * - `throwIfRunInterrupted(run)`: after the loop, rethrows a stop of the run that happened inside
 *   a tool, which the SDK only saw as a failed tool call.
 */
export { KeelAgentsModel, keelModelProvider } from './keel-model-provider.ts';
export type { KeelModelProviderOptions } from './keel-model-provider.ts';
export type { KeelResponseMetadata } from './model-response.ts';
export { governTools, idempotencyKeyOf, toolExecutionOf } from './govern-tools.ts';
export type { GovernToolsOptions, ToolCallDetails } from './govern-tools.ts';
export type { GovernedToolDeclaration } from '../framework/index.ts';
export { KeelTraceProcessor } from './trace-processor.ts';
export { throwIfRunInterrupted } from '../framework/index.ts';
