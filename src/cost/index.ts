export type { ModelPrice, PriceTable, ResolvedPrice } from './price-table.ts';
export { checkPriceTable, costOf, resolvePrice } from './price-table.ts';
export { defaultPriceTable } from './default-prices.ts';
export type { TextTokenCounter, TokenCount } from './token-count.ts';
export { countPromptTokens, textTokenCounter } from './token-count.ts';
export type { Amount, BudgetAlert, BudgetRule, BudgetScopeKind, Reservation, ReserveOutcome, SpendContext } from './budget-ledger.ts';
export { BudgetLedger } from './budget-ledger.ts';
export type { LatencyAlert, LatencySla } from './latency-sla.ts';
export { LatencyTracker } from './latency-sla.ts';
