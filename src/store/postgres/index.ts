export { PostgresStore } from './postgres-store.ts';
export type { PostgresStoreOptions, PostgresStoreStats } from './postgres-store.ts';
