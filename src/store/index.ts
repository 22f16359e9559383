export { defaultDatabasePath, openStore, resolveDatabase } from './open-store.ts';
export type { DatabaseTarget, OpenStoreOptions } from './open-store.ts';
export { SqliteStore } from './sqlite/index.ts';
export type { SqliteDurability, SqliteStoreOptions } from './sqlite/index.ts';
export { PostgresStore } from './postgres/index.ts';
export type { PostgresStoreOptions } from './postgres/index.ts';
export { quoteIdentifier } from './postgres/sql-identifiers.ts';
// Tests and benchmarks of every component find their PostgreSQL here (a schema each).
