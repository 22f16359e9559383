import type { JsonValue } from '../spec/index.ts';
import type { Grant } from './grants.ts';
import type { PolicyDecision } from './policy-decision.ts';

/** An entity by name only, e.g. `{ type: 'Role', id: 'customer' }`. */
export interface EntityReference {
  type: string;
  id: string;
}

/** An entity with the attributes and memberships a policy may read. */
export interface PolicyEntity extends EntityReference {
  attributes?: Record<string, JsonValue>;
  /** Groups the entity belongs to, e.g. a user's roles. */
  parents?: readonly EntityReference[];
}

/** One question for a policy engine: may `principal` do `action` to `resource`, in this context? */
export interface PolicyRequest {
  principal: PolicyEntity;
  /** An action name from the schema, e.g. `read` or `issue-refund`. */
  action: string;
  resource: PolicyEntity;
  /** What the run knows that policies may need: task, tenant, amounts ... */
  context: Record<string, JsonValue>;
  /** The run's task-scoped grants; policies can require them. Absent means none. */
  grants?: readonly Grant[];
  /** Further entities a policy may reach through attributes (an order's customer, say). */
  entities?: readonly PolicyEntity[];
}

/** What every policy engine offers, so an enforcing engine and a shadow candidate are interchangeable. */
export interface PolicyEngine {
  readonly policySetVersion: string;
  decide(request: PolicyRequest): PolicyDecision;
}
