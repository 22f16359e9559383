export type {
  AgentContextSource,
  AgentDeclaration,
  AgentInput,
  AgentLimits,
  AgentMemoryOptions,
  AgentOutput,
  AgentSimulatorOptions,
  AgentTool,
  DenialHandling,
  ResolvedResource,
  ResourceResolver,
  ResultLabels,
  ToolAccessV1,
} from './agent-declaration.ts';
export type { AgentDefinition } from './define-agent.ts';
export { defineAgent } from './define-agent.ts';
export { isAgentDefinition } from './agent-brand.ts';
export type { AgentRuntime, AgentRuntimeOptions } from './agent-runtime.ts';
export { createAgentRuntime } from './agent-runtime.ts';
export type { Keel, KeelOptions, RunRequestOptions } from './create-keel.ts';
export { createKeel } from './create-keel.ts';
// The tool decision of the agent loop, for adapters that govern another framework's tools the same way.
export { toolGate } from './tool-gate.ts';
export type { ToolGateInput } from './tool-gate.ts';
