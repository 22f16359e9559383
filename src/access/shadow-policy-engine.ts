import type { PolicyDecision } from './policy-decision.ts';
import type { PolicyEngine, PolicyRequest } from './policy-request.ts';

/** What the enforcing set decided, what the candidate would have decided, and whether they agree. */
export interface ShadowDecision {
  enforced: PolicyDecision;
  shadow: PolicyDecision;
  /** Same effect. Different policy ids with the same effect still agree: the outcome is what rolls out. */
  agrees: boolean;
}

export interface ShadowPolicyEngineOptions {
  enforcing: PolicyEngine;
  candidate: PolicyEngine;
  /** Called with every pair, so the caller can journal what the candidate would have decided. */
  onShadowDecision?: (decision: ShadowDecision, request: PolicyRequest) => void;
}

/**
 * Rolls out a new policy set without enforcing it: every request is decided by the enforcing
 * engine, whose decision is returned, and by the candidate, whose decision is only reported. The
 * candidate can never change an outcome, not even by throwing.
 */
export class ShadowPolicyEngine implements PolicyEngine {
  readonly #enforcing: PolicyEngine;
  readonly #candidate: PolicyEngine;
  readonly #onShadowDecision: ShadowPolicyEngineOptions['onShadowDecision'];

  constructor(options: ShadowPolicyEngineOptions) {
    this.#enforcing = options.enforcing;
    this.#candidate = options.candidate;
    this.#onShadowDecision = options.onShadowDecision;
  }

  get policySetVersion(): string {
    return this.#enforcing.policySetVersion;
  }

  get candidatePolicySetVersion(): string {
    return this.#candidate.policySetVersion;
  }

  /** The enforced decision; the shadow pair goes to `onShadowDecision`. */
  decide(request: PolicyRequest): PolicyDecision {
    return this.decideWithShadow(request).enforced;
  }

  /** Both decisions, for callers that journal the pair themselves. */
  decideWithShadow(request: PolicyRequest): ShadowDecision {
    const enforced = this.#enforcing.decide(request);
    const shadow = this.#decideCandidate(request);
    const result: ShadowDecision = { enforced, shadow, agrees: enforced.effect === shadow.effect };
    this.#onShadowDecision?.(result, request);
    return result;
  }

  #decideCandidate(request: PolicyRequest): PolicyDecision {
    try {
      return this.#candidate.decide(request);
    } catch (error) {
      // A broken candidate is a finding about the candidate, reported as its (failed-closed) decision.
      const message = error instanceof Error ? error.message : String(error);
      return { effect: 'deny', policyIds: [], reason: `the candidate policy set failed: ${message}`, engine: 'cedar', policySetVersion: this.#candidate.policySetVersion };
    }
  }
}
