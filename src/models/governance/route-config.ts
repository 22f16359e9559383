import type { ResiliencePolicy } from './resilience-policy.ts';

/** Conditions on a request; every condition given must hold. */
export interface RouteCondition {
  minInputTokens?: number;
  maxInputTokens?: number;
  /** The request offers tools. */
  tools?: boolean;
  /** The request asks for structured (JSON) output. */
  structuredOutput?: boolean;
  /** The tier the caller asked for (`simple`, `complex`, …), see GovernedModel.forTier. */
  tier?: string;
}

export interface RouteRule {
  when: RouteCondition;
  /** `provider:model`; must be one of the route's models. */
  use: string;
  reason?: string;
}

/** What happens when a call's worst case would cross a budget. */
export type BudgetContract = 'downgrade' | 'stop' | 'escalate';

export interface RouteConfig {
  name: string;
  /** `provider:model`, in fallback order. */
  models: string[];
  /** `ordered`: the first model unless a rule says otherwise. `cheapest`: the lowest worst-case cost. */
  strategy?: 'ordered' | 'cheapest';
  rules?: RouteRule[];
  /** The output bound every call is sent with (and reserved for); default 1024. */
  maxOutputTokens?: number;
  resilience?: Partial<ResiliencePolicy>;
  /** Default `downgrade`: try cheaper models of the route, then stop. */
  onBudgetExceeded?: BudgetContract;
  /**
   * At most `limit` calls of one tenant through this route per sliding `windowMs`, counted by the
   * governance's rate limiter (shared by the deployment's processes when it is a shared one). A call
   * counts once, its retries and fallbacks included; one over the limit waits until a slot frees,
   * within its deadline.
   */
  rateLimit?: { perTenant: { limit: number; windowMs: number } };
  /**
   * Model → the provider's version to call it by (`{ "openai:gpt-4o": "gpt-4o-2024-08-06" }`): the
   * provider is asked for the pinned version, while prices, breakers and the journal keep the name
   * the route lists. Rolling back a model update is pinning its previous version.
   */
  pin?: Record<string, string>;
}

export interface RequestTraits {
  inputTokens: number;
  tools: boolean;
  structuredOutput: boolean;
  tier: string | undefined;
}

export function conditionHolds(condition: RouteCondition, traits: RequestTraits): boolean {
  if (condition.minInputTokens !== undefined && traits.inputTokens < condition.minInputTokens) return false;
  if (condition.maxInputTokens !== undefined && traits.inputTokens > condition.maxInputTokens) return false;
  if (condition.tools !== undefined && condition.tools !== traits.tools) return false;
  if (condition.structuredOutput !== undefined && condition.structuredOutput !== traits.structuredOutput) return false;
  if (condition.tier !== undefined && condition.tier !== traits.tier) return false;
  return true;
}

export function describeCondition(condition: RouteCondition): string {
  const parts: string[] = [];
  if (condition.tier !== undefined) parts.push(`tier ${condition.tier}`);
  if (condition.maxInputTokens !== undefined) parts.push(`≤ ${condition.maxInputTokens} input tokens`);
  if (condition.minInputTokens !== undefined) parts.push(`≥ ${condition.minInputTokens} input tokens`);
  if (condition.tools !== undefined) parts.push(condition.tools ? 'uses tools' : 'no tools');
  if (condition.structuredOutput !== undefined) parts.push(condition.structuredOutput ? 'structured output' : 'free text');
  return parts.length === 0 ? 'always' : parts.join(', ');
}
