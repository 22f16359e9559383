/**
 * Concurrency-limit slots in PostgreSQL (src/spec/concurrency-store-v1.ts), shared by every process
 * on the schema: one row per slot held. An acquisition is one transaction that first takes a
 * transaction-scoped advisory lock on the key's hash, so whoever holds it is the only one pruning,
 * counting and adding slots for that key until it commits, and two processes cannot both take the
 * last slot. Times are the database's clock (clock_timestamp()); callers see durations only.
 */
import type { PoolClient, QueryResult } from 'pg';
import type { ConcurrencyStoreV1, SlotGrantV1, SlotRequestV1 } from '../../spec/index.ts';
import { toStoreError } from './postgres-errors.ts';

const clock = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

export class PostgresConcurrencySlots implements ConcurrencyStoreV1 {
  readonly concurrencySpecificationVersion = 'v1';
  readonly #sql: ReturnType<typeof slotStatements>;
  readonly #connect: () => Promise<PoolClient>;
  readonly #location: string;

  /** `connect` checks out a connection (and refuses once the store is closing). */
  constructor(schema: string, location: string, connect: () => Promise<PoolClient>) {
    this.#sql = slotStatements(schema);
    this.#location = location;
    this.#connect = connect;
  }

  async acquireSlot(request: SlotRequestV1): Promise<SlotGrantV1> {
    if (!Number.isSafeInteger(request.limit) || !Number.isSafeInteger(request.leaseMs)) throw new TypeError('a slot limit and lease are whole numbers');
    return this.#with('acquire a concurrency slot', async (client) => {
      // One round trip: the statements go together (simple protocol, values quoted by the client),
      // and each after the lock reads what the holder before it committed (read committed).
      const key = client.escapeLiteral(request.key);
      const holder = client.escapeLiteral(request.holder);
      const text = this.#sql.acquire(key, holder, request.limit, request.leaseMs);
      try {
        const results = (await client.query(text)) as unknown as QueryResult[];
        const taken = results[3];
        const after = results[4]?.rows[0] as { held: string; earliest: string | null; now: string } | undefined;
        const held = Number(after?.held ?? 0);
        if ((taken?.rowCount ?? 0) > 0) return { granted: true, held };
        const now = Number(after?.now ?? 0);
        return { granted: false, held, retryAfterMs: Math.max(0, Number(after?.earliest ?? now) - now) };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  async renewSlot(key: string, holder: string, leaseMs: number): Promise<boolean> {
    return this.#with('renew a concurrency slot', async (client) => ((await client.query(this.#sql.renewLive, [key, holder, leaseMs])).rowCount ?? 0) > 0);
  }

  async releaseSlot(key: string, holder: string): Promise<void> {
    await this.#with('release a concurrency slot', (client) => client.query(this.#sql.release, [key, holder]));
  }

  async #with<T>(what: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient | undefined;
    try {
      client = await this.#connect();
      return await work(client);
    } catch (error) {
      throw toStoreError(error, `cannot ${what} in ${this.#location}`);
    } finally {
      client?.release();
    }
  }
}

function slotStatements(schema: string) {
  const slots = `${schema}.concurrency_slots`;
  return {
    /** BEGIN; lock the key; drop its lapsed slots; take (or renew) one if there is room; count; COMMIT. */
    acquire: (key: string, holder: string, limit: number, leaseMs: number) => `
      BEGIN;
      SELECT pg_advisory_xact_lock(hashtextextended('concurrency:' || ${key}, 0));
      DELETE FROM ${slots} WHERE limit_key = ${key} AND expires_ms <= ${clock};
      INSERT INTO ${slots} AS slot (limit_key, holder, expires_ms)
        SELECT ${key}, ${holder}, ${clock} + ${leaseMs}
        FROM (SELECT count(*) AS held, coalesce(bool_or(holder = ${holder}), false) AS mine FROM ${slots} WHERE limit_key = ${key}) AS counted
        WHERE counted.mine OR counted.held < ${limit}
        ON CONFLICT (limit_key, holder) DO UPDATE SET expires_ms = excluded.expires_ms
        RETURNING slot.expires_ms;
      SELECT count(*) AS held, min(expires_ms) AS earliest, ${clock} AS now FROM ${slots} WHERE limit_key = ${key};
      COMMIT;`,
    // A lapsed slot is not renewed: another may count its place as free already.
    renewLive: `UPDATE ${slots} SET expires_ms = ${clock} + $3 WHERE limit_key = $1 AND holder = $2 AND expires_ms > ${clock}`,
    release: `DELETE FROM ${slots} WHERE limit_key = $1 AND holder = $2`,
  };
}
