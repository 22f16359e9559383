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
  ResultLabels,
  ToolAccessV1,
} from './agent-declaration.ts';
export type { AgentDefinition } from './define-agent.ts';
export { defineAgent, isAgentDefinition } from './define-agent.ts';
export type { AgentRuntime, AgentRuntimeOptions } from './agent-runtime.ts';
export { createAgentRuntime } from './agent-runtime.ts';
export type { Keel, KeelOptions, RunRequestOptions } from './create-keel.ts';
export { createKeel } from './create-keel.ts';
