/**
 * Telemetry exporters' cursors in the SQLite file (src/spec/telemetry-cursor-store-v1.ts). A write
 * is one IMMEDIATE transaction that compares and swaps, so two exporters under one name cannot both
 * advance it. Statements are prepared on first use: a store opened only to read runs never needs them.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { KeelError } from '../../errors/index.ts';
import type { ChangedRunQueryV1, ChangedRunV1, JsonValue, RunStatusV1, TelemetryCursorStoreV1 } from '../../spec/index.ts';

export interface SqliteTelemetryCursorAccess {
  /** Runs `work` in one write transaction, resolving once it is durable. */
  write: <T>(work: () => T) => Promise<T>;
  /** Runs `work` outside any transaction (reads). */
  read: <T>(work: () => T) => Promise<T>;
}

export class SqliteTelemetryCursors implements TelemetryCursorStoreV1 {
  readonly telemetryCursorSpecificationVersion = 'v1';
  readonly #database: DatabaseSync;
  readonly #access: SqliteTelemetryCursorAccess;
  #statements: ReturnType<typeof prepareCursorStatements> | undefined;

  constructor(database: DatabaseSync, access: SqliteTelemetryCursorAccess) {
    this.#database = database;
    this.#access = access;
  }

  readCursor(exporter: string): Promise<JsonValue | undefined> {
    return this.#access.read(() => {
      const row = this.#sql().read.get(exporter);
      return row === undefined ? undefined : parseCursor(exporter, row.cursor);
    });
  }

  writeCursor(exporter: string, cursor: JsonValue, expectedPrevious?: JsonValue | null): Promise<boolean> {
    const text = JSON.stringify(cursor);
    return this.#access.write(() => {
      const sql = this.#sql();
      if (expectedPrevious !== undefined) {
        const row = sql.read.get(exporter);
        const stored = row === undefined ? null : parseCursor(exporter, row.cursor);
        if (JSON.stringify(stored) !== JSON.stringify(expectedPrevious)) return false;
      }
      sql.upsert.run(exporter, text, new Date().toISOString());
      return true;
    });
  }

  listChangedRuns(query: ChangedRunQueryV1): Promise<ChangedRunV1[]> {
    return this.#access.read(() => {
      const sql = this.#sql();
      const rows = query.after === undefined ? sql.changedFromStart.all(query.limit) : sql.changedAfter.all(query.after.updatedAt, query.after.id, query.limit);
      return rows.map((row) => ({ id: String(row.id), updatedAt: String(row.updated_at), lastSeq: Number(row.last_seq), status: String(row.status) as RunStatusV1 }));
    });
  }

  #sql(): ReturnType<typeof prepareCursorStatements> {
    this.#statements ??= prepareCursorStatements(this.#database);
    return this.#statements;
  }
}

function parseCursor(exporter: string, value: SQLInputValue | undefined): JsonValue {
  try {
    return JSON.parse(typeof value === 'string' ? value : '') as JsonValue;
  } catch {
    throw new KeelError('db-unreadable', `telemetry cursor of exporter ${exporter} is not JSON`);
  }
}

function prepareCursorStatements(database: DatabaseSync): Record<'read' | 'upsert' | 'changedFromStart' | 'changedAfter', StatementSync> {
  // The last seq from the journal: the run row's progress may lag its last appends (sqlite-store.ts).
  const columns = 'id, updated_at, (SELECT max(seq) FROM journal WHERE run_key = runs.key) AS last_seq, status';
  return {
    read: database.prepare('SELECT cursor FROM telemetry_cursors WHERE exporter = ?'),
    upsert: database.prepare(
      'INSERT INTO telemetry_cursors (exporter, cursor, updated_at) VALUES (?, ?, ?) ON CONFLICT (exporter) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at',
    ),
    changedFromStart: database.prepare(`SELECT ${columns} FROM runs ORDER BY updated_at, id LIMIT ?`),
    changedAfter: database.prepare(`SELECT ${columns} FROM runs WHERE (updated_at, id) > (?, ?) ORDER BY updated_at, id LIMIT ?`),
  };
}
