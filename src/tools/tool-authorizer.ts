/**
 * The hook through which access control (Cedar policies, grants, data labels) rules on a tool call.
 * Types only: tools does not know how access decides, only that it can say no and why.
 */
import type { JsonValue } from '../spec/index.ts';
import type { AnyToolV1, ToolCallContextV1 } from './tool-spec.ts';

export interface AuthorizationDecisionV1 {
  /** `require-approval`: allowed once a person approves (the other checks still run first). */
  effect: 'allow' | 'deny' | 'require-approval';
  reason?: string;
  /** The policies that decided, journaled with the call for audit. */
  policyIds?: string[];
}

/** Sees the arguments exactly as the model sent them, before schema validation. */
export type ToolAuthorizerV1 = (tool: AnyToolV1, args: JsonValue, context: ToolCallContextV1) => AuthorizationDecisionV1 | Promise<AuthorizationDecisionV1>;
