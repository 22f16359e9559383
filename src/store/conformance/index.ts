export { runStoreConformance } from './store-conformance.ts';
export type { StoreFactory, StoreUnderTest } from './store-conformance.ts';
