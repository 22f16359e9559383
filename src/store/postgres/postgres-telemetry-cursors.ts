/**
 * Telemetry exporters' cursors in PostgreSQL (src/spec/telemetry-cursor-store-v1.ts). A guarded
 * write is one statement that compares and swaps under the row's lock (or inserts when there must
 * be none), so two exporters under one name cannot both advance it.
 */
import type { Pool } from 'pg';
import type { ChangedRunQueryV1, ChangedRunV1, JsonValue, RunStatusV1, TelemetryCursorStoreV1 } from '../../spec/index.ts';
import { isUniqueViolation, toStoreError } from './postgres-errors.ts';

interface ChangedRow {
  id: string;
  updated_at: Date;
  last_seq: number | string;
  status: string;
}

export class PostgresTelemetryCursors implements TelemetryCursorStoreV1 {
  readonly telemetryCursorSpecificationVersion = 'v1';
  readonly #pool: Pool;
  readonly #location: string;
  readonly #sql: ReturnType<typeof cursorStatements>;

  constructor(pool: Pool, schema: string, location: string) {
    this.#pool = pool;
    this.#location = location;
    this.#sql = cursorStatements(schema);
  }

  async readCursor(exporter: string): Promise<JsonValue | undefined> {
    const row = (await this.#query<{ cursor: string }>(this.#sql.read, [exporter], 'read telemetry cursor')).at(0);
    return row === undefined ? undefined : (JSON.parse(row.cursor) as JsonValue);
  }

  async writeCursor(exporter: string, cursor: JsonValue, expectedPrevious?: JsonValue | null): Promise<boolean> {
    const text = JSON.stringify(cursor);
    const now = new Date().toISOString();
    if (expectedPrevious === undefined) {
      await this.#query(this.#sql.upsert, [exporter, text, now], 'write telemetry cursor');
      return true;
    }
    if (expectedPrevious === null) {
      try {
        await this.#pool.query(this.#sql.insert, [exporter, text, now]);
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw toStoreError(error, `cannot write telemetry cursor in ${this.#location}`);
      }
    }
    // The stored text is what a writer's JSON.stringify made; comparing parsed JSON values keeps
    // the check independent of how the text was spaced.
    const updated = await this.#query(this.#sql.swap, [exporter, text, now, JSON.stringify(expectedPrevious)], 'write telemetry cursor');
    return updated.length === 1;
  }

  async listChangedRuns(query: ChangedRunQueryV1): Promise<ChangedRunV1[]> {
    const rows =
      query.after === undefined
        ? await this.#query<ChangedRow>(this.#sql.changedFromStart, [query.limit], 'list changed runs')
        : await this.#query<ChangedRow>(this.#sql.changedAfter, [query.after.updatedAt, query.after.id, query.limit], 'list changed runs');
    return rows.map((row) => ({ id: row.id, updatedAt: row.updated_at.toISOString(), lastSeq: Number(row.last_seq), status: row.status as RunStatusV1 }));
  }

  async #query<Row extends object>(text: string, values: unknown[], what: string): Promise<Row[]> {
    try {
      return (await this.#pool.query<Row>(text, values)).rows;
    } catch (error) {
      throw toStoreError(error, `cannot ${what} in ${this.#location}`);
    }
  }
}

function cursorStatements(schema: string) {
  const cursors = `${schema}.telemetry_cursors`;
  const columns = 'id, updated_at, last_seq, status';
  return {
    read: `SELECT cursor FROM ${cursors} WHERE exporter = $1`,
    upsert: `INSERT INTO ${cursors} (exporter, cursor, updated_at) VALUES ($1, $2, $3) ON CONFLICT (exporter) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
    insert: `INSERT INTO ${cursors} (exporter, cursor, updated_at) VALUES ($1, $2, $3)`,
    swap: `UPDATE ${cursors} SET cursor = $2, updated_at = $3 WHERE exporter = $1 AND cursor::jsonb = $4::jsonb RETURNING exporter`,
    changedFromStart: `SELECT ${columns} FROM ${schema}.runs ORDER BY updated_at, id LIMIT $1`,
    changedAfter: `SELECT ${columns} FROM ${schema}.runs WHERE (updated_at, id) > ($1::timestamptz, $2) ORDER BY updated_at, id LIMIT $3`,
  };
}
