export { runStoreConformance } from './store-conformance.ts';
export type { StoreFactory, StoreUnderTest } from './store-conformance.ts';
export { runOpeningConformance } from './opening-conformance.ts';
export type { OpeningHarness, OpeningTarget } from './opening-conformance.ts';
export { runBudgetConformance } from './budget-conformance.ts';
export type { BudgetBooksFactory, BudgetBooksUnderTest } from './budget-conformance.ts';
export { runKeyConformance } from './key-conformance.ts';
export type { KeyStoresFactory, KeyStoresUnderTest } from './key-conformance.ts';
