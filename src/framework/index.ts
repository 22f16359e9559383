/**
 * What Keel's framework adapters (keel/ai-sdk, keel/langchain) share: a run's session (calls take
 * turns; a stop of the run inside a tool is kept for the loop's next call) and tool calls decided
 * by Keel before they run. Internal: users reach it through the adapters.
 */
export { inTurn, sessionOf, throwIfRunInterrupted } from './run-session.ts';
export { governToolCalls, jsonOf } from './governed-tool-calls.ts';
export type { FrameworkTool, GovernedToolCall, GovernedToolDeclaration, ToolGovernanceOptions } from './governed-tool-calls.ts';
