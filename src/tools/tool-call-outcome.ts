import type { ErrorData } from '../errors/index.ts';
import type { JsonValue } from '../spec/index.ts';

/** Why a call was refused; each maps to one check, in the order they run. */
export type ToolDenialReason = 'unknown-tool' | 'scope-missing' | 'policy-denied' | 'constraint-violated' | 'rate-limited';

/** One problem with the arguments, at a JSON path such as `$.items[0].quantity`. */
export type ToolValidationError = { path: string; message: string; code: string };

export type ToolSucceeded = { status: 'ok'; tool: string; version: string; output: JsonValue };

export type ToolDenied = {
  status: 'denied';
  tool: string;
  reason: ToolDenialReason;
  message: string;
  /** Absent when the tool is unknown. */
  version?: string;
  missingScopes?: string[];
  policyIds?: string[];
  constraintId?: string;
  retryAfterMs?: number;
};

/** The model sent arguments the schema rejects: show it the errors and let it try again, a bounded number of times. */
export type ToolArgumentsInvalid = {
  status: 'arguments-invalid';
  tool: string;
  version: string;
  retryable: true;
  message: string;
  validationErrors: ToolValidationError[];
};

/** A person must approve this call first; the run suspends until one decides. */
export type ToolApprovalRequired = { status: 'approval-required'; tool: string; version: string; reason: string };

/** The tool ran and failed, timed out, or returned output its schema rejects. */
export type ToolFailed = { status: 'failed'; tool: string; version: string; error: ErrorData };

export type ToolCallOutcome = ToolSucceeded | ToolDenied | ToolArgumentsInvalid | ToolApprovalRequired | ToolFailed;

/** What the governance checks decided before anything ran: journaled as the result of one step. */
export type ToolAllowed = {
  status: 'allowed';
  tool: string;
  version: string;
  policyIds: string[];
  /** Who approved the call, when the tool's approval rule asked for someone. */
  approvedBy?: string;
  approvalReason?: string;
};

export type ToolDecision = ToolAllowed | ToolDenied | ToolArgumentsInvalid | ToolApprovalRequired;
