import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { KeelError } from '../../errors/index.ts';
import { latestSqliteSchemaVersion, sqliteMigrations } from './migrations.ts';

// Not an ES import: importing node:fs builds its namespace, which loads fs streams and fs/promises
// into every CLI start (docs/architecture.md, CLI start-up).
const { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } = process.getBuiltinModule('node:fs');

export type SqliteDurability = 'full' | 'normal';

export interface OpenDatabaseOptions {
  path: string;
  /** Create the file (and its folder) when missing, or adopt an empty one; otherwise either is `db-missing`. */
  create: boolean;
  /**
   * Open for reading only: nothing is created, migrated or switched (no journal mode), and only
   * a Keel database at the latest schema version is accepted. A file on a read-only path opens too.
   */
  readOnly?: boolean;
}

/** What a file holds, found before anything that could write to it. */
type Contents = { kind: 'empty' } | { kind: 'keel'; version: number };

// Every SQLite database file starts with these 16 bytes (https://sqlite.org/fileformat.html).
const sqliteHeader = Buffer.from('SQLite format 3\0', 'latin1');
// SQLITE_CANTOPEN: what SQLite answers when it cannot create the WAL index on a read-only path.
const cannotOpen = 14;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens a Keel database, refusing anything that is not one before changing a byte: the file is
 * identified first (its header, then its tables, through a connection that cannot write), and the
 * journal mode and migrations are applied only to a file known to be Keel's, or empty, at a
 * version this Keel understands.
 */
export function openDatabase(options: OpenDatabaseOptions): DatabaseSync {
  const { path } = options;
  const readOnly = options.readOnly === true;
  if (path === ':memory:') {
    if (readOnly) throw new KeelError('db-missing', 'no Keel database in memory to read: a read-only store needs a file');
    return openForWriting(path);
  }
  const onDisk = checkFile(path, options.create && !readOnly);
  const contents: Contents = onDisk === 'sqlite' ? inspect(path) : { kind: 'empty' };
  if (contents.kind === 'empty' && onDisk !== 'missing' && (readOnly || !options.create)) {
    // An empty file is no Keel database yet; only a command that creates one may adopt it.
    throw new KeelError(
      'db-missing',
      `no Keel database at ${path}: ${onDisk === 'zero-bytes' ? 'the file is empty (0 bytes)' : 'the file is a SQLite database with no tables'}; nothing was changed`,
    );
  }
  if (contents.kind === 'keel') checkVersion(path, contents.version, readOnly);
  return readOnly ? openForReading(path) : openForWriting(path);
}

/** 'missing' (and about to be created), 'zero-bytes', or 'sqlite': a file with SQLite's header. */
function checkFile(path: string, create: boolean): 'missing' | 'zero-bytes' | 'sqlite' {
  if (!existsSync(path)) {
    if (!create) throw new KeelError('db-missing', `no Keel database at ${path} (run \`keel demo\` to create one, or pass --db)`);
    mkdirSync(dirname(path), { recursive: true });
    return 'missing';
  }
  const stat = statSync(path);
  if (!stat.isFile()) throw new KeelError('db-unreadable', `cannot open database ${path}: not a regular file`);
  if (stat.size === 0) return 'zero-bytes';
  const header = Buffer.alloc(sqliteHeader.length);
  let read: number;
  try {
    const descriptor = openSync(path, 'r');
    try {
      read = readSync(descriptor, header, 0, header.length, 0);
    } finally {
      closeSync(descriptor);
    }
  } catch (error) {
    throw new KeelError('db-unreadable', `cannot read database ${path}: ${describe(error)}`, { cause: error });
  }
  if (read < header.length || !header.equals(sqliteHeader)) {
    throw new KeelError('db-unreadable', `${path} is not a SQLite database (it does not start with SQLite's header); refusing to touch it`);
  }
  return 'sqlite';
}

/**
 * Identifies the file without writing to it or beside it. With no WAL file present, nobody has the
 * database open in WAL mode, and an immutable connection reads the file alone: it takes no locks
 * and creates no WAL index, so a foreign database gets no `-wal`/`-shm` files next to it. With a
 * WAL file present, committed data may live only there, so a plain read-only connection reads it.
 */
function inspect(path: string): Contents {
  let database: DatabaseSync;
  try {
    database = existsSync(`${path}-wal`) ? new DatabaseSync(path, { readOnly: true }) : new DatabaseSync(immutableUrl(path), { readOnly: true });
  } catch (error) {
    throw new KeelError('db-unreadable', `cannot open database ${path}: ${describe(error)}`, { cause: error });
  }
  try {
    database.exec('PRAGMA busy_timeout = 10000');
    const tables = database
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
      .all()
      .map((row) => String(row.name));
    if (tables.length === 0) return { kind: 'empty' };
    if (!tables.includes('keel_meta')) {
      throw new KeelError('db-foreign', `${path} is not a Keel database (it has tables ${tables.slice(0, 3).join(', ')}${tables.length > 3 ? ', …' : ''} and no keel_meta); refusing to touch it`);
    }
    const meta = new Map(
      database
        .prepare(`SELECT key, value FROM keel_meta WHERE key IN ('format', 'schema_version')`)
        .all()
        .map((row) => [String(row.key), String(row.value)]),
    );
    if (meta.get('format') !== 'keel') throw new KeelError('db-foreign', `${path} has a keel_meta table that is not Keel's; refusing to touch it`);
    const version = Number(meta.get('schema_version') ?? '0');
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new KeelError('db-unreadable', `${path} has an unreadable schema_version in keel_meta: ${JSON.stringify(meta.get('schema_version'))}`);
    }
    return { kind: 'keel', version };
  } catch (error) {
    if (error instanceof KeelError) throw error;
    throw new KeelError('db-unreadable', `cannot read database ${path}: ${describe(error)}`, { cause: error });
  } finally {
    database.close();
  }
}

function checkVersion(path: string, version: number, readOnly: boolean): void {
  if (version > latestSqliteSchemaVersion) {
    throw new KeelError('db-too-new', `${path} has schema version ${version}, newer than this Keel understands (${latestSqliteSchemaVersion}); upgrade Keel`);
  }
  if (readOnly && version < latestSqliteSchemaVersion) {
    throw new KeelError(
      'db-too-old',
      `${path} has schema version ${version}, older than this Keel's (${latestSqliteSchemaVersion}); reading never migrates: a command that writes (keel worker, keel resume) upgrades it`,
    );
  }
}

/**
 * A read-only connection that sees what writers committed to the WAL. On a read-only path SQLite
 * cannot create the WAL index it needs; there nobody can be writing, so the file alone is the
 * database and an immutable connection reads it, unless a WAL file holds frames it would miss.
 */
function openForReading(path: string): DatabaseSync {
  try {
    const database = new DatabaseSync(path, { readOnly: true });
    try {
      database.exec('PRAGMA busy_timeout = 10000');
      database.prepare('SELECT count(*) FROM keel_meta').get();
      return database;
    } catch (error) {
      database.close();
      throw error;
    }
  } catch (error) {
    if ((error as { errcode?: unknown }).errcode !== cannotOpen) {
      throw new KeelError('db-unreadable', `cannot read database ${path}: ${describe(error)}`, { cause: error });
    }
    const wal = `${path}-wal`;
    if (existsSync(wal) && statSync(wal).size > 0) {
      throw new KeelError('db-unreadable', `cannot read database ${path}: its write-ahead log ${wal} holds commits that cannot be read from a read-only location; copy both files somewhere writable`, { cause: error });
    }
    try {
      return new DatabaseSync(immutableUrl(path), { readOnly: true });
    } catch (retryError) {
      throw new KeelError('db-unreadable', `cannot read database ${path}: ${describe(retryError)}`, { cause: retryError });
    }
  }
}

function openForWriting(path: string): DatabaseSync {
  let database: DatabaseSync;
  try {
    database = new DatabaseSync(path);
  } catch (error) {
    throw new KeelError('db-unreadable', `cannot open database ${path}: ${describe(error)}`, { cause: error });
  }
  try {
    database.exec(`PRAGMA busy_timeout = 10000`);
    database.exec(`PRAGMA journal_mode = WAL`);
    // Commits write the WAL without fsync; `full` durability syncs it off-thread (see wal-sync.ts).
    database.exec(`PRAGMA synchronous = NORMAL`);
    // Statement journals (a multi-row insert or a savepoint inside the group's transaction) stay in
    // memory: spilled to a temporary file they cost a write syscall per 4 KiB.
    database.exec(`PRAGMA temp_store = MEMORY`);
    migrate(database, path);
  } catch (error) {
    database.close();
    if (error instanceof KeelError) throw error;
    throw new KeelError('db-unreadable', `cannot prepare database ${path}: ${describe(error)}`, { cause: error });
  }
  return database;
}

function immutableUrl(path: string): URL {
  const url = pathToFileURL(path);
  url.search = 'immutable=1';
  return url;
}

function migrate(database: DatabaseSync, path: string): void {
  database.exec('BEGIN IMMEDIATE');
  try {
    // Another process may have created tables since the file was inspected: checked again under the write lock.
    const foreign = database.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'keel_meta'`).all();
    const marked = database.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'keel_meta'`).get() !== undefined;
    if (!marked && foreign.length > 0) throw new KeelError('db-foreign', `${path} is not a Keel database (it has tables and no keel_meta); refusing to touch it`);
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
