// A PostgreSQL schema per test, for tests and benchmarks only: not part of the package's runtime
// surface (the lint rule lets only tests and bench/ import this entry).
export { dropSchema, openTestPostgres, uniqueSchemaName, withClient } from '../postgres/test-database.ts';
// The budget book suite, so the in-memory book outside this component is held to the same contract.
export { runBudgetConformance } from '../conformance/budget-conformance.ts';
// The shared-limits suites, so the Redis limiter and breaker state are held to the stores' contract.
export { runBreakerConformance, runRateLimitConformance } from '../conformance/index.ts';
export type { BreakerStoresFactory, RateLimitersFactory } from '../conformance/index.ts';
// The concurrency-slot suite, so Redis's slots are held to the stores' contract.
export { runConcurrencyConformance } from '../conformance/index.ts';
export type { ConcurrencyStoresFactory } from '../conformance/index.ts';
