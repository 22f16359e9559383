import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { KeelError } from '../../errors/index.ts';
import { latestSqliteSchemaVersion, sqliteMigrations } from './migrations.ts';

export type SqliteDurability = 'full' | 'normal';

export interface OpenDatabaseOptions {
  path: string;
  /** Create the file (and its folder) when missing; otherwise a missing file is `db-missing`. */
  create: boolean;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens a Keel database, refusing anything that is not one before changing a byte: the journal
 * mode and migrations are applied only after the file is known to be Keel's (or empty).
 */
export function openDatabase(options: OpenDatabaseOptions): DatabaseSync {
  const { path } = options;
  const memory = path === ':memory:';
  if (!memory) {
    if (existsSync(path)) {
      if (!statSync(path).isFile()) throw new KeelError('db-unreadable', `cannot open database ${path}: not a regular file`);
    } else if (!options.create) {
      throw new KeelError('db-missing', `no Keel database at ${path} (run \`keel demo\` to create one, or pass --db)`);
    } else {
      mkdirSync(dirname(path), { recursive: true });
    }
  }
  let database: DatabaseSync;
  try {
    database = new DatabaseSync(path);
  } catch (error) {
    throw new KeelError('db-unreadable', `cannot open database ${path}: ${describe(error)}`);
  }
  try {
    const tables = database
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
      .all()
      .map((row) => String(row.name));
    if (tables.length > 0 && !tables.includes('keel_meta')) {
      throw new KeelError('db-foreign', `${path} is not a Keel database (it has tables ${tables.slice(0, 3).join(', ')}${tables.length > 3 ? ', …' : ''} and no keel_meta); refusing to touch it`);
    }
    if (tables.includes('keel_meta')) {
      const format = database.prepare(`SELECT value FROM keel_meta WHERE key = 'format'`).get();
      if (format?.value !== 'keel') throw new KeelError('db-foreign', `${path} has a keel_meta table that is not Keel's; refusing to touch it`);
    }
  } catch (error) {
    database.close();
    if (error instanceof KeelError) throw error;
    throw new KeelError('db-unreadable', `cannot read database ${path}: ${describe(error)}`);
  }
  try {
    database.exec(`PRAGMA busy_timeout = 10000`);
    database.exec(`PRAGMA journal_mode = WAL`);
    // Commits write the WAL without fsync; `full` durability syncs it off-thread (see wal-sync.ts).
    database.exec(`PRAGMA synchronous = NORMAL`);
    migrate(database, path);
  } catch (error) {
    database.close();
    if (error instanceof KeelError) throw error;
    throw new KeelError('db-unreadable', `cannot prepare database ${path}: ${describe(error)}`);
  }
  return database;
}

function migrate(database: DatabaseSync, path: string): void {
  database.exec('BEGIN IMMEDIATE');
  try {
    database.exec(`CREATE TABLE IF NOT EXISTS keel_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT`);
    database.exec(`INSERT OR IGNORE INTO keel_meta (key, value) VALUES ('format', 'keel'), ('schema_version', '0')`);
    const row = database.prepare(`SELECT value FROM keel_meta WHERE key = 'schema_version'`).get();
    const current = Number(row?.value ?? 0);
    if (current > latestSqliteSchemaVersion) {
      throw new KeelError('db-too-new', `${path} has schema version ${current}, newer than this Keel understands (${latestSqliteSchemaVersion}); upgrade Keel`);
    }
    for (const migration of sqliteMigrations) {
      if (migration.version <= current) continue;
      database.exec(migration.sql);
      database.prepare(`UPDATE keel_meta SET value = ? WHERE key = 'schema_version'`).run(String(migration.version));
    }
    database.exec('COMMIT');
  } catch (error) {
    database.exec('ROLLBACK');
    throw error;
  }
}
