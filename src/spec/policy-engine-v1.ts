/**
 * Policy engine specification, version 1: the engine-neutral question "may this principal do this
 * to that resource?" and its answer. Types only. Cedar (src/access) is one engine; everything else
 * (the journal, tools, the agent loop, the dashboard) reads these types, never an engine's own
 * response, so the engine can change without changing what a run records.
 */
import type { JsonValue } from './store-v1.ts';

/** An entity by name only, e.g. `{ type: 'Role', id: 'customer' }`. */
export interface EntityReferenceV1 {
  type: string;
  id: string;
}

/** An entity with the attributes and memberships a policy may read. */
export interface PolicyEntityV1 extends EntityReferenceV1 {
  attributes?: Record<string, JsonValue>;
  /** Groups the entity belongs to, e.g. a user's roles. */
  parents?: readonly EntityReferenceV1[];
}

/**
 * Permission to do one action to one named resource, for one run. There is no wildcard form: the
 * refund agent for order 42 is granted `Order::"42"`, never "orders", so a confused or compromised
 * agent can reach only what its task needs (minimum necessary).
 */
export interface GrantV1 {
  action: string;
  resource: EntityReferenceV1;
}

/** One question for a policy engine: may `principal` do `action` to `resource`, in this context? */
export interface PolicyRequestV1 {
  principal: PolicyEntityV1;
  /** An action name from the schema, e.g. `read` or `issue-refund`. */
  action: string;
  resource: PolicyEntityV1;
  /** What the run knows that policies may need: task, tenant, amounts ... */
  context: Record<string, JsonValue>;
  /** The run's task-scoped grants; policies can require them. Absent means none. */
  grants?: readonly GrantV1[];
  /** Further entities a policy may reach through attributes (an order's customer, say). */
  entities?: readonly PolicyEntityV1[];
}

export type PolicyEffectV1 = 'allow' | 'deny' | 'require-approval' | 'not-applicable';

export interface PolicyDecisionV1 {
  /**
   * `allow`: a permit applies and nothing forbids. `deny`: a forbid applies (or the request could
   * not be evaluated: engines fail closed). `require-approval`: only approval gates stand between
   * the request and a permit. `not-applicable`: no policy permits it; callers treat it as a deny,
   * but it is recorded apart because "nobody wrote a rule" is a different finding from "a rule said no".
   */
  effect: PolicyEffectV1;
  /** The stable ids (`@id`) of the policies that determined the effect; empty when none did. */
  policyIds: string[];
  /** Why, in words a reviewer can read in the audit trail. */
  reason: string;
  /** Which engine decided, e.g. `cedar`. */
  engine: string;
  /** A hash of the policy set (and schema) that decided, so an audit can find the exact files. */
  policySetVersion: string;
}

/** What every policy engine offers, so an enforcing engine and a shadow candidate are interchangeable. */
export interface PolicyEngineV1 {
  readonly policySetVersion: string;
  decide(request: PolicyRequestV1): PolicyDecisionV1;
}
