/**
 * The engine-neutral answer to "may this principal do this to that resource?" (PolicyDecisionV1,
 * src/spec/policy-engine-v1.ts), under access's names.
 */
import type { PolicyDecisionV1, PolicyEffectV1 } from '../spec/index.ts';

export type PolicyEffect = PolicyEffectV1;
export type PolicyDecision = PolicyDecisionV1;

/** Only `allow` lets the action proceed; every other effect stops or suspends it. */
export function isAllowed(decision: PolicyDecision): boolean {
  return decision.effect === 'allow';
}
