/**
 * `import … from 'keel'`: the public surface. Deliberately small; each name is re-exported by
 * name from its component's index.ts, so adding to it is a decision, not a side effect. Anything
 * not listed here is internal and may change without notice.
 */

// Agents: declare one, serve it with createKeel (the one entry point).
export { createKeel, defineAgent, isAgentDefinition } from './agent/index.ts';
export type {
  AgentContextSource,
  AgentDeclaration,
  AgentDefinition,
  AgentInput,
  AgentLimits,
  AgentMemoryOptions,
  AgentOutput,
  AgentTool,
  DenialHandling,
  Keel,
  KeelOptions,
  ResolvedResource,
  ResourceResolver,
  ResultLabels,
  RunRequestOptions,
  ToolAccessV1,
} from './agent/index.ts';

// Durable tasks and runs.
export { defineTask, Engine } from './engine/index.ts';
export type { EngineOptions, RunAbandoned, RunContext, RunOutcome, RunRequest, StepInfo, StepOptions, TaskDefinition, ToolOptions, WorkOptions } from './engine/index.ts';

// Tools and their governance.
export { defineTool, ToolRegistry } from './tools/index.ts';
export type {
  AnyToolV1,
  RateWindowV1,
  SideEffectClassV1,
  ToolApprovalRuleV1,
  ToolCallContextV1,
  ToolCallOutcome,
  ToolConstraintV1,
  ToolExecutionContextV1,
  ToolRateLimitV1,
  ToolV1,
} from './tools/index.ts';

// Output and failure contracts.
export { defineFailureContract, defineOutputContract } from './contracts/index.ts';
export type { ContractValidation, ContractViolation, CrossFieldRule, FailureContract, FailureKind, OutputContract, OutputContractDefinition } from './contracts/index.ts';

// Stores: SQLite file or PostgreSQL URL.
export { openStore, resolveDatabase } from './store/index.ts';
export type { DatabaseTarget, OpenStoreOptions } from './store/index.ts';
export type { JournalRecordV1, JsonValue, RunQueryV1, RunRecordV1, RunStatusV1, StoreV1 } from './spec/index.ts';

// Errors: one class, stable codes.
export { errorCodes, KeelError } from './errors/index.ts';
export type { ErrorCode, ErrorData } from './errors/index.ts';

// Models: the simulator, provider resolution, the governed route.
export { GovernedModel, resolveModel, SimulatorModel } from './models/index.ts';
export type { FaultPlan, Governance, ProviderSetting, ResolveModelOptions, ScriptInput, SimulatedTurn, SimulatorOptions, SimulatorScript } from './models/index.ts';
export type { GenerateOptionsV1, GenerateResultV1, LanguageModelV1, MessageV1, UsageV1 } from './spec/index.ts';

// Configuration: routes, prices, budgets, SLAs.
export { loadConfig, parseConfig } from './config/index.ts';
export type { KeelConfig } from './config/index.ts';

// Audit evidence: check a `keel audit prove --json` proof without the database.
export { loadVerifyingKey, verifyRunInclusionProof } from './audit/index.ts';
export type { RunInclusionProof, VerifyingKey } from './audit/index.ts';

// Access policies in Cedar.
export { CedarPolicyEngine } from './access/index.ts';
export type { PolicyDecision, PolicyEngine, PolicyRequest } from './access/index.ts';

// Failure drills and online monitoring (docs/drills-and-monitoring.md).
export { drillFaultNames, runDrill } from './drill/index.ts';
export type { DrillFaultName, DrillOptions, DrillReport } from './drill/index.ts';
export { faultAlerts, PassRateDropTest, RunWatcher } from './monitor/index.ts';
export type { FaultAlert, MonitorSetting, TaskStatsSnapshot } from './monitor/index.ts';
