/**
 * The engine-neutral answer to "may this principal do this to that resource?". Everything outside
 * the engine (the journal, tools, the dashboard) reads this type, never Cedar's own response, so
 * the engine can change without changing what a run records.
 */
export type PolicyEffect = 'allow' | 'deny' | 'require-approval' | 'not-applicable';

export interface PolicyDecision {
  /**
   * `allow`: a permit applies and nothing forbids. `deny`: a forbid applies (or the request could
   * not be evaluated: engines fail closed). `require-approval`: only approval gates stand between
   * the request and a permit. `not-applicable`: no policy permits it; callers treat it as a deny,
   * but it is recorded apart because "nobody wrote a rule" is a different finding from "a rule said no".
   */
  effect: PolicyEffect;
  /** The stable ids (`@id`) of the policies that determined the effect; empty when none did. */
  policyIds: string[];
  /** Why, in words a reviewer can read in the audit trail. */
  reason: string;
  engine: 'cedar';
  /** sha256 of the policy set (and schema) that decided, so an audit can find the exact files. */
  policySetVersion: string;
}

/** Only `allow` lets the action proceed; every other effect stops or suspends it. */
export function isAllowed(decision: PolicyDecision): boolean {
  return decision.effect === 'allow';
}
