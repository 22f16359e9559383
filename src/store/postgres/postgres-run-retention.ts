/**
 * Deleting ended runs past their retention period from PostgreSQL
 * (src/spec/run-retention-store-v1.ts): the journal rows, tags and index row of each run that still
 * ends where the retention record says, in one transaction. The space is reclaimed by autovacuum.
 */
import type { Pool } from 'pg';
import type { RetainedRunV1, RunRetentionStoreV1 } from '../../spec/index.ts';
import { toStoreError } from './postgres-errors.ts';

export class PostgresRunRetention implements RunRetentionStoreV1 {
  readonly runRetentionSpecificationVersion = 'v1';
  readonly #pool: Pool;
  readonly #schema: string;
  readonly #location: string;

  constructor(pool: Pool, schema: string, location: string) {
    this.#pool = pool;
    this.#schema = schema;
    this.#location = location;
  }

  async deleteEndedRuns(runs: readonly RetainedRunV1[]): Promise<string[]> {
    if (runs.length === 0) return [];
    const client = await this.#pool.connect().catch((error: unknown) => {
      throw toStoreError(error, `cannot delete runs in ${this.#location}`);
    });
    try {
      await client.query('BEGIN');
      const deleted = await client.query<{ id: string }>(
        `DELETE FROM ${this.#schema}.runs r USING unnest($1::text[], $2::bigint[]) AS chosen(id, last_seq)
         WHERE r.id = chosen.id AND r.last_seq = chosen.last_seq AND r.status IN ('ok', 'degraded', 'escalated', 'failed')
         RETURNING r.id`,
        [runs.map((run) => run.runId), runs.map((run) => run.lastSeq)],
      );
      const ids = deleted.rows.map((row) => row.id);
      await client.query(`DELETE FROM ${this.#schema}.journal WHERE run_id = ANY($1::text[])`, [ids]);
      await client.query(`DELETE FROM ${this.#schema}.run_tags WHERE run_id = ANY($1::text[])`, [ids]);
      await client.query('COMMIT');
      return ids;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw toStoreError(error, `cannot delete runs in ${this.#location}`);
    } finally {
      client.release();
    }
  }
}
