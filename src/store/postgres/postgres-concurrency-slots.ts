/**
 * Concurrency-limit slots in PostgreSQL (src/spec/concurrency-store-v1.ts), shared by every process
 * on the schema: one row per slot held. An acquisition is one transaction that first takes a
 * transaction-scoped advisory lock on the key's hash, so whoever holds it is the only one pruning,
 * counting and adding slots for that key until it commits, and two processes cannot both take the
 * last slot. Times are the database's clock (clock_timestamp()); callers see durations only.
 */
import type { PoolClient } from 'pg';
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
    return this.#with('acquire a concurrency slot', async (client) => {
      await client.query('BEGIN');
      try {
        const now = Number((await client.query<{ now: string }>(this.#sql.lock, [request.key])).rows[0]?.now);
        await client.query(this.#sql.expire, [request.key, now]);
        const held = Number((await client.query<{ held: string }>(this.#sql.count, [request.key])).rows[0]?.held ?? 0);
        let grant: SlotGrantV1;
        if ((await client.query(this.#sql.renew, [request.key, request.holder, now + request.leaseMs])).rowCount !== 0) grant = { granted: true, held };
        else if (held < request.limit) {
          await client.query(this.#sql.insert, [request.key, request.holder, now + request.leaseMs]);
          grant = { granted: true, held: held + 1 };
        } else {
          const earliest = Number((await client.query<{ earliest: string | null }>(this.#sql.earliest, [request.key])).rows[0]?.earliest ?? now);
          grant = { granted: false, held, retryAfterMs: Math.max(0, earliest - now) };
        }
        await client.query('COMMIT');
        return grant;
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
    // The lock is the transaction's; 'concurrency:' keeps it apart from other users of advisory locks on the same key.
    lock: `SELECT pg_advisory_xact_lock(hashtextextended('concurrency:' || $1::text, 0)), ${clock} AS now`,
    expire: `DELETE FROM ${slots} WHERE limit_key = $1 AND expires_ms <= $2`,
    count: `SELECT count(*) AS held FROM ${slots} WHERE limit_key = $1`,
    earliest: `SELECT min(expires_ms) AS earliest FROM ${slots} WHERE limit_key = $1`,
    renew: `UPDATE ${slots} SET expires_ms = $3 WHERE limit_key = $1 AND holder = $2`,
    insert: `INSERT INTO ${slots} (limit_key, holder, expires_ms) VALUES ($1, $2, $3)`,
    // A lapsed slot is not renewed: another may count its place as free already.
    renewLive: `UPDATE ${slots} SET expires_ms = ${clock} + $3 WHERE limit_key = $1 AND holder = $2 AND expires_ms > ${clock}`,
    release: `DELETE FROM ${slots} WHERE limit_key = $1 AND holder = $2`,
  };
}
