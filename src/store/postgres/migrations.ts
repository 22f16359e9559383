/**
 * Versioned schema for the PostgreSQL store. Append a migration; never edit a shipped one.
 * Everything lives in one dedicated schema; `keel_meta` marks it as Keel's, so a schema that
 * belongs to someone else is recognised and left alone.
 */
import type { PoolClient } from 'pg';
import { KeelError } from '../../errors/index.ts';
import { quoteIdentifier } from './sql-identifiers.ts';

export interface PostgresMigration {
  version: number;
  name: string;
  /** The migration's SQL for a schema, given as an already quoted identifier. */
  sql: (schema: string) => string;
}

export const postgresMigrations: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'runs-and-journal',
    sql: (schema) => `
      -- Every append rewrites its run's row; the free space fillfactor leaves on each page lets
      -- PostgreSQL update in place (HOT) without touching the indexes while the status is unchanged.
      CREATE TABLE ${schema}.runs (
        id text PRIMARY KEY,
        task text NOT NULL,
        task_version text NOT NULL,
        principal text NOT NULL,
        tenant text NOT NULL,
        status text NOT NULL,
        reason text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        last_seq integer NOT NULL,
        last_hash text NOT NULL,
        step_count integer NOT NULL DEFAULT 0,
        input_tokens bigint NOT NULL DEFAULT 0,
        output_tokens bigint NOT NULL DEFAULT 0,
        cost_micros bigint NOT NULL DEFAULT 0,
        lease_owner text,
        lease_expires_at timestamptz,
        stop_requested text
      ) WITH (fillfactor = 70);
      CREATE INDEX runs_claim ON ${schema}.runs (status, lease_expires_at, created_at);
      CREATE INDEX runs_created ON ${schema}.runs (created_at, id);
      CREATE INDEX runs_task_created ON ${schema}.runs (task, created_at, id);

      -- No foreign key to runs: every insert comes from the group write statement, which has the
      -- run's row locked, and a per-row key check would cost each record another index probe.
      -- data is text, not jsonb: jsonb would rewrite the payload (key order, number spelling).
      CREATE TABLE ${schema}.journal (
        run_id text NOT NULL,
        seq integer NOT NULL,
        time timestamptz NOT NULL,
        type text NOT NULL,
        schema_version integer NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        data text NOT NULL,
        PRIMARY KEY (run_id, seq)
      );
    `,
  },
  {
    version: 2,
    name: 'memory',
    sql: (schema) => `
      -- Session, long-term and hand-off memory. The tenant leads the key: every query names it.
      -- summarises holds, for a summary, the entries it replaced (JSON text, oldest first).
      CREATE TABLE ${schema}.memory (
        tenant text NOT NULL,
        scope_kind text NOT NULL,
        scope_id text NOT NULL,
        seq integer NOT NULL,
        role text NOT NULL,
        text text NOT NULL,
        labels text NOT NULL,
        created_at text NOT NULL,
        source_run_id text,
        source_step integer,
        content_hash text NOT NULL,
        summarises text,
        PRIMARY KEY (tenant, scope_kind, scope_id, seq)
      );
    `,
  },
  {
    version: 3,
    name: 'budgets',
    sql: (schema) => `
      -- Budget accounts shared by every process on this schema (src/spec/budget-store-v1.ts): one
      -- row per scope key, locked by whoever reserves or settles in it, and one hold per scope a
      -- live or expired reservation is in. Times are epoch milliseconds (a test may bring its clock).
      CREATE TABLE ${schema}.budget_accounts (
        scope_key text PRIMARY KEY,
        spent_micros bigint NOT NULL DEFAULT 0,
        spent_tokens bigint NOT NULL DEFAULT 0,
        reserved_micros bigint NOT NULL DEFAULT 0,
        reserved_tokens bigint NOT NULL DEFAULT 0
      );
      CREATE TABLE ${schema}.budget_holds (
        reservation_id text NOT NULL,
        scope_key text NOT NULL,
        micros bigint NOT NULL,
        tokens bigint NOT NULL,
        expires_ms bigint NOT NULL,
        expired boolean NOT NULL DEFAULT false,
        PRIMARY KEY (reservation_id, scope_key)
      );
      CREATE INDEX budget_holds_expiry ON ${schema}.budget_holds (scope_key, expired, expires_ms);
    `,
  },
  {
    version: 4,
    name: 'shared-limits',
    sql: (schema) => `
      -- Rate-limit windows and circuit-breaker state shared by every process on this schema.
      CREATE TABLE ${schema}.rate_limit_hits (
        limit_key text NOT NULL,
        hit_ms bigint NOT NULL,
        hit_id text NOT NULL,
        PRIMARY KEY (limit_key, hit_ms, hit_id)
      );
      CREATE TABLE ${schema}.breaker_states (
        breaker_key text PRIMARY KEY,
        state text NOT NULL,
        consecutive_failures integer NOT NULL DEFAULT 0,
        opened_until_ms bigint NOT NULL DEFAULT 0,
        updated_ms bigint NOT NULL
      );
      -- One rate-limit acquisition (postgres-rate-limiter.ts) in one round trip: the keys' advisory
      -- locks (in hash order, 'klim' as their namespace) first, then each statement reads the rows
      -- the previous holder committed; a full window returns its position and when it frees, and
      -- the call is added to every key only when none is full. Its commit does not wait for the
      -- WAL flush: a hit lost to a crash lets one more call into its window.
      CREATE FUNCTION ${schema}.rate_limit_acquire(request_keys text[], request_sizes integer[], request_windows bigint[], clock_ms bigint, request_hit text)
      RETURNS TABLE (full_position integer, wait_ms bigint)
      LANGUAGE plpgsql VOLATILE AS $acquire$
      DECLARE
        now_value bigint;
        freeing_ms bigint;
      BEGIN
        PERFORM set_config('synchronous_commit', 'off', true);
        PERFORM pg_advisory_xact_lock(1802267757, hashed)
          FROM (SELECT DISTINCT hashtext(request_key) AS hashed FROM unnest(request_keys) AS request_key ORDER BY hashed OFFSET 0) AS ordered;
        now_value := coalesce(clock_ms, (extract(epoch FROM clock_timestamp()) * 1000)::bigint);
        FOR position_index IN 1 .. coalesce(array_length(request_keys, 1), 0) LOOP
          DELETE FROM ${schema}.rate_limit_hits AS hit
            WHERE hit.limit_key = request_keys[position_index] AND hit.hit_ms <= now_value - request_windows[position_index];
          -- The call whose expiry frees a slot is the one \`limit\` places from the newest.
          SELECT hit.hit_ms INTO freeing_ms FROM ${schema}.rate_limit_hits AS hit
            WHERE hit.limit_key = request_keys[position_index] AND hit.hit_ms > now_value - request_windows[position_index]
            ORDER BY hit.hit_ms DESC OFFSET request_sizes[position_index] - 1 LIMIT 1;
          IF FOUND THEN
            full_position := position_index;
            wait_ms := greatest(1, freeing_ms + request_windows[position_index] - now_value);
            RETURN NEXT;
            RETURN;
          END IF;
        END LOOP;
        INSERT INTO ${schema}.rate_limit_hits (limit_key, hit_ms, hit_id)
          SELECT DISTINCT request_key, now_value, request_hit FROM unnest(request_keys) AS request_key;
      END
      $acquire$;
    `,
  },
  {
    version: 5,
    name: 'api-keys',
    sql: (schema) => `
      -- Virtual keys for the gateway: only a hash of the secret is kept.
      CREATE TABLE ${schema}.api_keys (
        key_id text PRIMARY KEY,
        secret_hash text NOT NULL UNIQUE,
        tenant text NOT NULL,
        principal text NOT NULL,
        settings jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz
      );
    `,
  },
  {
    version: 6,
    name: 'audit-log',
    sql: (schema) => `
      -- The Merkle log of run checkpoints (src/spec/audit-log-store-v1.ts): one leaf per run head
      -- anchored, and one signed tree head per append. No foreign key to runs: a deleted run must
      -- leave its leaves behind for the verifier to notice. The primary keys serialise appends: two
      -- appenders extending the same tree both insert its next leaf index, and the second fails.
      -- Times are text: a tree head is signed over its issuedAt exactly as written.
      CREATE TABLE ${schema}.audit_leaves (
        leaf_index bigint PRIMARY KEY,
        run_id text NOT NULL,
        seq integer NOT NULL,
        event_hash text NOT NULL,
        anchored_at text NOT NULL
      );
      CREATE INDEX audit_leaves_run ON ${schema}.audit_leaves (run_id, seq);
      CREATE TABLE ${schema}.audit_tree_heads (
        tree_size bigint PRIMARY KEY,
        root_hash text NOT NULL,
        issued_at text NOT NULL,
        key_id text NOT NULL,
        signature text NOT NULL,
        compact_range text NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: 'telemetry-cursors',
    sql: (schema) => `
      -- Where each telemetry exporter stands in the journal, so a restarted exporter neither loses
      -- nor repeats what it sent. The cursor's shape belongs to the exporter (JSON text).
      CREATE TABLE ${schema}.telemetry_cursors (
        exporter text PRIMARY KEY,
        cursor text NOT NULL,
        updated_at text NOT NULL
      );
      -- The exporters tail runs in the order their latest events were dated.
      CREATE INDEX runs_updated ON ${schema}.runs (updated_at, id);
    `,
  },
  {
    version: 8,
    name: 'datasets',
    sql: (schema) => `
      -- Evaluation datasets pinned from the journal: the items are fixed under a content hash.
      CREATE TABLE ${schema}.datasets (
        name text PRIMARY KEY,
        content_hash text NOT NULL,
        definition text NOT NULL,
        items text NOT NULL,
        created_at text NOT NULL
      );
    `,
  },
  {
    version: 9,
    name: 'concurrency-slots',
    sql: (schema) => `
      -- Concurrency limits (bulkheads) shared by every process on this schema: one row per slot
      -- held, until its holder releases it or its lease runs out (a holder that died).
      CREATE TABLE ${schema}.concurrency_slots (
        limit_key text NOT NULL,
        holder text NOT NULL,
        expires_ms bigint NOT NULL,
        PRIMARY KEY (limit_key, holder)
      );
    `,
  },
  {
    version: 10,
    name: 'subject-keys',
    sql: (schema) => `
      -- Per-subject keys sealing labelled payload fields (src/redaction): one live key per subject.
      -- Redaction deletes the row, then VACUUMs the table, and keeps who, why and when beside it.
      CREATE TABLE ${schema}.subject_keys (
        key_id text PRIMARY KEY,
        subject text NOT NULL UNIQUE,
        material text NOT NULL,
        created_at timestamptz NOT NULL
      );
      CREATE TABLE ${schema}.subject_redactions (
        key_id text PRIMARY KEY,
        subject text NOT NULL,
        redacted_at timestamptz NOT NULL,
        redacted_by text NOT NULL,
        reason text NOT NULL
      );
      CREATE INDEX subject_redactions_subject ON ${schema}.subject_redactions (subject);
    `,
  },
  {
    version: 11,
    name: 'rate-limit-counts',
    sql: (schema) => `
      -- For each rate-limit key, how many hits it holds and a time none of them is older than, kept
      -- beside its rows so that a decision needs no scan of its window (with a generous limit, every
      -- call of the last minute) nor of the rows pruned before it, whose index entries stay until
      -- VACUUM. Each decision may rewrite its keys' rows; fillfactor's free space lets that stay HOT.
      CREATE TABLE ${schema}.rate_limit_counts (
        limit_key text PRIMARY KEY,
        hits integer NOT NULL,
        oldest_ms bigint NOT NULL
      ) WITH (fillfactor = 50);
      -- Acquisitions already writing hits finish first, and none writes one until the counts and
      -- the function below are committed, so the counts start equal to the rows. (One already past
      -- its locks but not yet at its first write, in a process running while this migrates, still
      -- ends with migration 4's body: its key's count may be off by one until its window empties.)
      LOCK TABLE ${schema}.rate_limit_hits IN SHARE MODE;
      INSERT INTO ${schema}.rate_limit_counts (limit_key, hits, oldest_ms)
        SELECT limit_key, count(*), min(hit_ms) FROM ${schema}.rate_limit_hits GROUP BY limit_key;
      -- Migration 4's acquisition, same arguments and answers under the same advisory locks, now
      -- deciding by the count: a key prunes only once its oldest hit has left, from that hit on, and
      -- its window's rows are read only when it is full, from the oldest still inside. A decision
      -- costs a few index probes, however many calls its window holds.
      CREATE OR REPLACE FUNCTION ${schema}.rate_limit_acquire(request_keys text[], request_sizes integer[], request_windows bigint[], clock_ms bigint, request_hit text)
      RETURNS TABLE (full_position integer, wait_ms bigint)
      LANGUAGE plpgsql VOLATILE AS $acquire$
      DECLARE
        now_value bigint;
        cutoff_ms bigint;
        inside integer;
        oldest_held bigint;
        pruned integer;
        freeing_ms bigint;
      BEGIN
        PERFORM set_config('synchronous_commit', 'off', true);
        PERFORM pg_advisory_xact_lock(1802267757, hashed)
          FROM (SELECT DISTINCT hashtext(request_key) AS hashed FROM unnest(request_keys) AS request_key ORDER BY hashed OFFSET 0) AS ordered;
        now_value := coalesce(clock_ms, (extract(epoch FROM clock_timestamp()) * 1000)::bigint);
        FOR position_index IN 1 .. coalesce(array_length(request_keys, 1), 0) LOOP
          cutoff_ms := now_value - request_windows[position_index];
          SELECT tally.hits, tally.oldest_ms INTO inside, oldest_held
            FROM ${schema}.rate_limit_counts AS tally WHERE tally.limit_key = request_keys[position_index];
          inside := coalesce(inside, 0);
          IF oldest_held IS NULL OR oldest_held <= cutoff_ms THEN
            DELETE FROM ${schema}.rate_limit_hits AS hit
              WHERE hit.limit_key = request_keys[position_index]
                AND hit.hit_ms >= coalesce(oldest_held, '-9223372036854775808'::bigint) AND hit.hit_ms <= cutoff_ms;
            GET DIAGNOSTICS pruned = ROW_COUNT;
            SELECT hit.hit_ms INTO oldest_held FROM ${schema}.rate_limit_hits AS hit
              WHERE hit.limit_key = request_keys[position_index] AND hit.hit_ms > cutoff_ms
              ORDER BY hit.hit_ms ASC LIMIT 1;
            IF oldest_held IS NULL THEN
              -- An empty window: whatever the count said, it holds nothing now.
              inside := 0;
              oldest_held := cutoff_ms + 1;
            ELSE
              inside := inside - pruned;
              IF inside <= 0 THEN
                -- Rows the count missed (see above): count them, once.
                SELECT count(*) INTO inside FROM ${schema}.rate_limit_hits AS hit
                  WHERE hit.limit_key = request_keys[position_index] AND hit.hit_ms > cutoff_ms;
              END IF;
            END IF;
            UPDATE ${schema}.rate_limit_counts AS tally SET hits = inside, oldest_ms = oldest_held
              WHERE tally.limit_key = request_keys[position_index];
          END IF;
          IF inside >= request_sizes[position_index] THEN
            -- The call whose expiry frees a slot is the one \`limit\` places from the newest: counted
            -- from the oldest, the (inside - limit)th, the oldest itself unless the limit was lowered.
            SELECT hit.hit_ms INTO freeing_ms FROM ${schema}.rate_limit_hits AS hit
              WHERE hit.limit_key = request_keys[position_index] AND hit.hit_ms > cutoff_ms
              ORDER BY hit.hit_ms ASC OFFSET inside - request_sizes[position_index] LIMIT 1;
            full_position := position_index;
            wait_ms := greatest(1, coalesce(freeing_ms, now_value) + request_windows[position_index] - now_value);
            RETURN NEXT;
            RETURN;
          END IF;
        END LOOP;
        INSERT INTO ${schema}.rate_limit_hits (limit_key, hit_ms, hit_id)
          SELECT DISTINCT request_key, now_value, request_hit FROM unnest(request_keys) AS request_key;
        -- One call naming a key twice counts once against it. A caller's clock may go back: least.
        INSERT INTO ${schema}.rate_limit_counts AS tally (limit_key, hits, oldest_ms)
          SELECT DISTINCT request_key, 1, now_value FROM unnest(request_keys) AS request_key
          ON CONFLICT (limit_key) DO UPDATE SET hits = tally.hits + 1, oldest_ms = least(tally.oldest_ms, excluded.oldest_ms);
      END
      $acquire$;
    `,
  },
  {
    version: 12,
    name: 'budget-settlements',
    sql: (schema) => `
      -- What each reservation was settled at, kept a day: whoever ends a call its process could not
      -- end (a dead gateway process, a stopped run) journals what the book booked for it.
      CREATE TABLE ${schema}.budget_settlements (
        reservation_id text PRIMARY KEY,
        micros bigint NOT NULL,
        tokens bigint NOT NULL,
        settled_ms bigint NOT NULL
      );
      CREATE INDEX budget_settlements_age ON ${schema}.budget_settlements (settled_ms);
    `,
  },
  {
    version: 13,
    name: 'budget-reservation-runs',
    sql: (schema) => `
      -- The run each reservation is for, kept with its holds and its settlement, so whoever takes a
      -- run over after its process died finds every reservation of it, even one whose budget decision
      -- never reached the journal. NULL for reservations made before, and for those of no run.
      ALTER TABLE ${schema}.budget_holds ADD COLUMN run_id text;
      CREATE INDEX budget_holds_run ON ${schema}.budget_holds (run_id) WHERE run_id IS NOT NULL;
      ALTER TABLE ${schema}.budget_settlements ADD COLUMN run_id text;
      CREATE INDEX budget_settlements_run ON ${schema}.budget_settlements (run_id) WHERE run_id IS NOT NULL;
    `,
  },
  {
    version: 14,
    name: 'response-cache',
    sql: (schema) => `
      -- Answers the gateway may hand out again, shared by every process on this schema
      -- (src/spec/response-cache-store-v1.ts); the key is already a digest of what the answer covers.
      -- Expired rows are deleted now and then by a write, found through their expiry.
      CREATE TABLE ${schema}.response_cache (
        key text PRIMARY KEY,
        text text NOT NULL,
        run_id text NOT NULL,
        stored_ms bigint NOT NULL,
        expires_ms bigint NOT NULL
      );
      CREATE INDEX response_cache_expiry ON ${schema}.response_cache (expires_ms);
    `,
  },
  {
    version: 15,
    name: 'run-tags',
    sql: (schema) => `
      -- What each run was tagged with at its creation (project, feature, team), for spend by tag.
      -- No foreign key, as the journal: the group write statement inserts them with their run.
      -- Deleted with the run (retention). By name and value: the runs carrying a tag.
      CREATE TABLE ${schema}.run_tags (
        run_id text NOT NULL,
        name text NOT NULL,
        value text NOT NULL,
        PRIMARY KEY (run_id, name)
      );
      CREATE INDEX run_tags_value ON ${schema}.run_tags (name, value, run_id);
    `,
  },
  {
    version: 16,
    name: 'run-tags-by-creation',
    sql: (schema) => `
      -- Listing the runs that carry a tag (listRuns({ tags })) newest first, a page at a time: each
      -- tag keeps its run's creation time (fixed for the run's life), so the index hands the runs
      -- in listing order (created_at, then run id, as the runs are listed) and a page reads its own
      -- runs, not every run carrying the value. A tag whose run is gone goes with it.
      ALTER TABLE ${schema}.run_tags ADD COLUMN created_at timestamptz;
      UPDATE ${schema}.run_tags AS tag SET created_at = runs.created_at FROM ${schema}.runs WHERE runs.id = tag.run_id;
      DELETE FROM ${schema}.run_tags WHERE created_at IS NULL;
      ALTER TABLE ${schema}.run_tags ALTER COLUMN created_at SET NOT NULL;
      DROP INDEX ${schema}.run_tags_value;
      CREATE INDEX run_tags_listing ON ${schema}.run_tags (name, value, created_at, run_id);
    `,
  },
  {
    version: 17,
    name: 'runs-by-status',
    sql: (schema) => `
      -- Listing the runs in one status (listRuns({ statuses: [one] }): keel escalations, the
      -- dashboard) newest first, a page at a time. Under the generic plan runs_created was walked
      -- backwards past every run in another status (all 100,000 for a status few runs have);
      -- runs_claim does not help, lease_expires_at sits between status and created_at.
      CREATE INDEX runs_status_created ON ${schema}.runs (status, created_at, id);
    `,
  },
];

export const latestPostgresSchemaVersion = postgresMigrations.at(-1)?.version ?? 0;

// An arbitrary constant ('keel' in ASCII) paired with the schema's hash as the advisory lock key.
const migrationLockNamespace = 0x6b65656c;

/**
 * Brings `schemaName` up to the latest version, inside one transaction holding an advisory lock
 * keyed on the schema, so processes starting together migrate once and wait for each other.
 * An up-to-date schema is only read, which lets a role without CREATE rights open it. Without
 * `create`, a missing or empty schema is `db-missing` rather than created.
 */
export async function migrate(client: PoolClient, schemaName: string, options: { create: boolean; address?: string } = { create: true }): Promise<void> {
  const schema = quoteIdentifier(schemaName);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::integer, hashtext($2))', [migrationLockNamespace, schemaName]);
    const current = await readSchemaVersion(client, schemaName);
    if (!options.create && typeof current !== 'number') throw notKeelYet(schemaName, current, options.address);
    if (current === 'absent') await client.query(`CREATE SCHEMA ${schema}`);
    if (current === 'absent' || current === 'unmarked') {
      await client.query(`CREATE TABLE ${schema}.keel_meta (key text PRIMARY KEY, value text NOT NULL)`);
    }
    const version = typeof current === 'number' ? current : 0;
    if (version > latestPostgresSchemaVersion) {
      throw new KeelError(
        'db-too-new',
        `schema ${schemaName} is at version ${version}, newer than this Keel understands (${latestPostgresSchemaVersion}); upgrade Keel`,
      );
    }
    for (const migration of postgresMigrations) {
      if (migration.version > version) await client.query(migration.sql(schema));
    }
    if (version < latestPostgresSchemaVersion) {
      await client.query(
        `INSERT INTO ${schema}.keel_meta (key, value) VALUES ('schema_version', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [String(latestPostgresSchemaVersion)],
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * For a reader: accepts only a Keel schema at the latest version, and runs nothing but queries
 * (the connection is read-only besides), so a missing, empty or foreign schema is left as it is.
 */
export async function checkReadable(client: PoolClient, schemaName: string, address?: string): Promise<void> {
  const current = await readSchemaVersion(client, schemaName);
  if (typeof current !== 'number') throw notKeelYet(schemaName, current, address);
  if (current > latestPostgresSchemaVersion) {
    throw new KeelError('db-too-new', `schema ${schemaName} is at version ${current}, newer than this Keel understands (${latestPostgresSchemaVersion}); upgrade Keel`);
  }
  if (current < latestPostgresSchemaVersion) {
    throw new KeelError(
      'db-too-old',
      `schema ${schemaName} is at version ${current}, older than this Keel's (${latestPostgresSchemaVersion}); reading never migrates: a command that writes (keel worker, keel resume) upgrades it`,
    );
  }
}

function notKeelYet(schemaName: string, state: 'absent' | 'unmarked', address = 'this database'): KeelError {
  return new KeelError(
    'db-missing',
    state === 'absent' ? `no Keel schema ${schemaName} at ${address}; nothing was changed` : `schema ${schemaName} at ${address} is empty, not a Keel schema yet; nothing was changed`,
  );
}

/** 'absent': no such schema. 'unmarked': an empty schema without keel_meta (made for us by an admin). */
async function readSchemaVersion(client: PoolClient, schemaName: string): Promise<number | 'absent' | 'unmarked'> {
  const { rows } = await client.query<{ schema_exists: boolean; has_meta: boolean; relations: number }>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema_exists,
            to_regclass(format('%I.keel_meta', $1::text)) IS NOT NULL AS has_meta,
            (SELECT count(*)::integer FROM pg_class JOIN pg_namespace ON pg_namespace.oid = pg_class.relnamespace
              WHERE nspname = $1) AS relations`,
    [schemaName],
  );
  const state = rows[0];
  if (state === undefined || !state.schema_exists) return 'absent';
  if (!state.has_meta) {
    if (state.relations > 0) {
      throw new KeelError('db-foreign', `schema ${schemaName} holds tables that are not Keel's (no keel_meta); choose another schema`);
    }
    return 'unmarked';
  }
  const schema = quoteIdentifier(schemaName);
  const meta = await client.query<{ value: string }>(`SELECT value FROM ${schema}.keel_meta WHERE key = 'schema_version'`);
  const text = meta.rows[0]?.value;
  if (text === undefined) return 0;
  const version = Number(text);
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new KeelError('db-unreadable', `schema ${schemaName} has an unreadable keel_meta schema_version: ${JSON.stringify(text)}`);
  }
  return version;
}
