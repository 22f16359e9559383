import { resolve } from 'node:path';
import { KeelError } from '../errors/index.ts';
import type { StoreV1 } from '../spec/index.ts';
import { SqliteStore } from './sqlite/index.ts';

export const defaultDatabasePath = '.keel/keel.db';

export interface OpenStoreOptions {
  /** `--db`: a file path or a postgres:// URL. Falls back to KEEL_DB, then `.keel/keel.db`. */
  database?: string | undefined;
  /**
   * Create the database (a SQLite file, a PostgreSQL schema) when it is missing or empty. Commands
   * that start runs do; the others refuse with `db-missing` and leave what they found untouched.
   */
  create: boolean;
  /**
   * Open for reading only: nothing is created, migrated or written, and anything that is not a
   * Keel database at this Keel's schema version is refused untouched. A database on a read-only
   * path (an archived copy) can be read. Read commands (`runs`, `show`, `escalations`,
   * `audit verify`, `replay`) pass true.
   */
  readOnly?: boolean;
  environment?: NodeJS.ProcessEnv;
}

export type DatabaseTarget = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string; schema?: string };

/** Decides where the data lives from `--db` / `KEEL_DB`, refusing anything it cannot use. */
export function resolveDatabase(database: string | undefined, environment: NodeJS.ProcessEnv = process.env): DatabaseTarget {
  const value = database ?? environment.KEEL_DB ?? defaultDatabasePath;
  const source = database !== undefined ? '--db' : environment.KEEL_DB !== undefined ? 'KEEL_DB' : 'the default';
  if (value.trim() === '') throw new KeelError('db-url-invalid', `${source} is empty; pass a file path or a postgres:// URL`);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) return { dialect: 'sqlite', path: resolve(value) };
  if (scheme === 'postgres' || scheme === 'postgresql') {
    const schema = environment.KEEL_PG_SCHEMA;
    return schema === undefined ? { dialect: 'postgres', url: value } : { dialect: 'postgres', url: value, schema };
  }
  if (scheme === 'file' || scheme === 'sqlite') return { dialect: 'sqlite', path: resolve(value.slice(scheme.length + 3)) };
  throw new KeelError('db-url-invalid', `${source} has unsupported scheme '${scheme}://'; use a file path for SQLite or a postgres:// URL`);
}

export async function openStore(options: OpenStoreOptions): Promise<StoreV1> {
  const target = resolveDatabase(options.database, options.environment);
  const readOnly = options.readOnly === true;
  const create = options.create && !readOnly;
  if (target.dialect === 'sqlite') return SqliteStore.open({ path: target.path, create, readOnly });
  // Loaded on demand: the pg driver costs embedded users startup time for nothing.
  const { PostgresStore } = await import('./postgres/index.ts');
  return PostgresStore.open({ url: target.url, create, readOnly, ...(target.schema === undefined ? {} : { schema: target.schema }) });
}
