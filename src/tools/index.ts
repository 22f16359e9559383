export type {
  AnyToolV1,
  AuthorizationDecisionV1,
  JsonSchemaV1,
  RateLimitDecisionV1,
  RateLimiterV1,
  RateLimitRequestV1,
  RateWindowV1,
  SideEffectClassV1,
  ToolApprovalRuleV1,
  ToolAuthorizerV1,
  ToolCallContextV1,
  ToolConstraintV1,
  ToolExecutionContextV1,
  ToolRateLimitV1,
  ToolSchemaV1,
  ToolV1,
} from '../spec/index.ts';
export type {
  ToolAllowed,
  ToolApprovalRequired,
  ToolArgumentsInvalid,
  ToolCallOutcome,
  ToolDecision,
  ToolDenialReason,
  ToolDenied,
  ToolFailed,
  ToolSucceeded,
  ToolValidationError,
} from './tool-call-outcome.ts';
export type { ToolRunContext, ToolStepInfo } from './tool-run-context.ts';
export type { ToolCallRequest } from './governed-tool-call.ts';
export type { McpServerConnection, McpTransportOptions } from './mcp-connection.ts';
export type { McpArguments, McpRegistration, McpToolGovernance, RegisterMcpToolsOptions } from './mcp-tools.ts';
export { defineTool } from './define-tool.ts';
export { ToolRegistry } from './tool-registry.ts';
export { SlidingWindowRateLimiter } from './sliding-window-rate-limiter.ts';
export { callTool } from './governed-tool-call.ts';
export { isSafeToRepeat } from './execute-within-limits.ts';
export { toolResultPart } from './tool-result-part.ts';
export { inputJsonSchemaOf } from './tool-schema.ts';
export { connectMcpServer } from './mcp-connection.ts';
export { mcpIdempotencyMetaKey, registerMcpTools } from './mcp-tools.ts';
