/**
 * Versioned schema for the node:sqlite store. Append a migration; never edit a shipped one.
 * `keel_meta` marks the file as Keel's, so a foreign database is recognised and left alone.
 */
export interface SqliteMigration {
  version: number;
  name: string;
  sql: string;
}

export const sqliteMigrations: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'runs-and-journal',
    sql: `
      -- runs.key is the journal's compact foreign key: an integer index is several times cheaper to
      -- maintain per appended event than one on the text run id.
      CREATE TABLE runs (
        key INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        task TEXT NOT NULL,
        task_version TEXT NOT NULL,
        principal TEXT NOT NULL,
        tenant TEXT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_seq INTEGER NOT NULL,
        last_hash TEXT NOT NULL,
        step_count INTEGER NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cost_micros INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_expires_ms INTEGER,
        stop_requested TEXT
      ) STRICT;
      CREATE INDEX runs_claim ON runs (status, created_at, id);
      CREATE INDEX runs_created ON runs (created_at, id);
      CREATE TABLE journal (
        run_key INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        time TEXT NOT NULL,
        type TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        data TEXT NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX journal_position ON journal (run_key, seq);
    `,
  },
  {
    version: 2,
    name: 'memory',
    sql: `
      -- Session, long-term and hand-off memory. The tenant leads the key: every query names it.
      -- summarises holds, for a summary, the entries it replaced (JSON, oldest first).
      CREATE TABLE memory (
        tenant TEXT NOT NULL,
        scope_kind TEXT NOT NULL,
        scope_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        role TEXT NOT NULL,
        text TEXT NOT NULL,
        labels TEXT NOT NULL,
        created_at TEXT NOT NULL,
        source_run_id TEXT,
        source_step INTEGER,
        content_hash TEXT NOT NULL,
        summarises TEXT,
        PRIMARY KEY (tenant, scope_kind, scope_id, seq)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: 'budgets',
    sql: `
      -- Budget accounts shared by every process on this file (src/spec/budget-store-v1.ts): one row
      -- per scope key, and one hold per scope a live or expired reservation is in.
      CREATE TABLE budget_accounts (
        scope_key TEXT PRIMARY KEY,
        spent_micros INTEGER NOT NULL DEFAULT 0,
        spent_tokens INTEGER NOT NULL DEFAULT 0,
        reserved_micros INTEGER NOT NULL DEFAULT 0,
        reserved_tokens INTEGER NOT NULL DEFAULT 0
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE budget_holds (
        reservation_id TEXT NOT NULL,
        scope_key TEXT NOT NULL,
        micros INTEGER NOT NULL,
        tokens INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL,
        expired INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (reservation_id, scope_key)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX budget_holds_expiry ON budget_holds (scope_key, expired, expires_ms);
    `,
  },
  {
    version: 4,
    name: 'shared-limits',
    sql: `
      -- Rate-limit windows and circuit-breaker state shared by every process on this file.
      CREATE TABLE rate_limit_hits (
        limit_key TEXT NOT NULL,
        hit_ms INTEGER NOT NULL,
        hit_id TEXT NOT NULL,
        PRIMARY KEY (limit_key, hit_ms, hit_id)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE breaker_states (
        breaker_key TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        opened_until_ms INTEGER NOT NULL DEFAULT 0,
        updated_ms INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    name: 'api-keys',
    sql: `
      -- Virtual keys for the gateway: only a hash of the secret is kept.
      CREATE TABLE api_keys (
        key_id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL UNIQUE,
        tenant TEXT NOT NULL,
        principal TEXT NOT NULL,
        settings TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 6,
    name: 'audit-log',
    sql: `
      -- The Merkle log of run checkpoints (src/spec/audit-log-store-v1.ts): one leaf per run head
      -- anchored, and one signed tree head per append. No foreign key to runs: a deleted run must
      -- leave its leaves behind for the verifier to notice.
      CREATE TABLE audit_leaves (
        leaf_index INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        event_hash TEXT NOT NULL,
        anchored_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX audit_leaves_run ON audit_leaves (run_id, seq);
      CREATE TABLE audit_tree_heads (
        tree_size INTEGER PRIMARY KEY,
        root_hash TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        key_id TEXT NOT NULL,
        signature TEXT NOT NULL,
        compact_range TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 7,
    name: 'telemetry-cursors',
    sql: `
      -- Where each telemetry exporter stands in the journal, so a restarted exporter neither loses
      -- nor repeats what it sent. The cursor's shape belongs to the exporter (JSON text).
      CREATE TABLE telemetry_cursors (
        exporter TEXT PRIMARY KEY,
        cursor TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
      -- The exporters tail runs in the order their latest events were dated.
      CREATE INDEX runs_updated ON runs (updated_at, id);
    `,
  },
  {
    version: 8,
    name: 'datasets',
    sql: `
      -- Evaluation datasets pinned from the journal: the items are fixed under a content hash.
      CREATE TABLE datasets (
        name TEXT PRIMARY KEY,
        content_hash TEXT NOT NULL,
        definition TEXT NOT NULL,
        items TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 9,
    name: 'concurrency-slots',
    sql: `
      -- Concurrency limits (bulkheads) shared by every process on this file: one row per slot held,
      -- until its holder releases it or its lease runs out (a holder that died).
      CREATE TABLE concurrency_slots (
        limit_key TEXT NOT NULL,
        holder TEXT NOT NULL,
        expires_ms INTEGER NOT NULL,
        PRIMARY KEY (limit_key, holder)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 10,
    name: 'subject-keys',
    sql: `
      -- Per-subject keys sealing labelled payload fields (src/redaction): one live key per subject.
      -- Redaction deletes the row (under secure_delete) and keeps who, why and when beside it.
      CREATE TABLE subject_keys (
        key_id TEXT PRIMARY KEY,
        subject TEXT NOT NULL UNIQUE,
        material TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE subject_redactions (
        key_id TEXT PRIMARY KEY,
        subject TEXT NOT NULL,
        redacted_at TEXT NOT NULL,
        redacted_by TEXT NOT NULL,
        reason TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX subject_redactions_subject ON subject_redactions (subject);
    `,
  },
  {
    version: 11,
    name: 'rate-limit-counts',
    sql: `
      -- How many hits each rate-limit key holds, kept beside its rows so that a decision needs no
      -- scan of the window: with a generous limit a window holds every call of the last minute.
      CREATE TABLE rate_limit_counts (
        limit_key TEXT PRIMARY KEY,
        hits INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      INSERT INTO rate_limit_counts (limit_key, hits) SELECT limit_key, count(*) FROM rate_limit_hits GROUP BY limit_key;
    `,
  },
  {
    version: 12,
    name: 'budget-settlements',
    sql: `
      -- What each reservation was settled at, kept a day: whoever ends a call its process could not
      -- end (a dead gateway process, a stopped run) journals what the book booked for it.
      CREATE TABLE budget_settlements (
        reservation_id TEXT PRIMARY KEY,
        micros INTEGER NOT NULL,
        tokens INTEGER NOT NULL,
        settled_ms INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX budget_settlements_age ON budget_settlements (settled_ms);
    `,
  },
  {
    version: 13,
    name: 'budget-reservation-runs',
    sql: `
      -- The run each reservation is for, kept with its holds and its settlement, so whoever takes a
      -- run over after its process died finds every reservation of it, even one whose budget decision
      -- never reached the journal. NULL for reservations made before, and for those of no run.
      ALTER TABLE budget_holds ADD COLUMN run_id TEXT;
      CREATE INDEX budget_holds_run ON budget_holds (run_id) WHERE run_id IS NOT NULL;
      ALTER TABLE budget_settlements ADD COLUMN run_id TEXT;
      CREATE INDEX budget_settlements_run ON budget_settlements (run_id) WHERE run_id IS NOT NULL;
    `,
  },
  {
    version: 14,
    name: 'response-cache',
    sql: `
      -- Answers the gateway may hand out again, shared by every process on this file
      -- (src/spec/response-cache-store-v1.ts); the key is already a digest of what the answer covers.
      -- Expired rows are deleted now and then by a write, found through their expiry.
      -- A rowid table, unlike the others: answers are kilobytes to a megabyte, and WITHOUT ROWID
      -- keeps each row in the key's b-tree, a few to a page, so a lookup walks a deep tree. With
      -- 20,000 answers of 4 KB a miss took 10-13 µs against 2.4, with 2,000 of 64 KB 84 against
      -- 3.5; hits and writes were slower too.
      CREATE TABLE response_cache (
        key TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        run_id TEXT NOT NULL,
        stored_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX response_cache_expiry ON response_cache (expires_ms);
    `,
  },
  {
    version: 15,
    name: 'run-tags',
    sql: `
      -- What each run was tagged with at its creation (project, feature, team), for spend by tag.
      -- Keyed by the run's key, as the journal; deleted with the run (retention), since a deleted
      -- run's key goes to the next run created. By name and value: the runs carrying a tag.
      CREATE TABLE run_tags (
        run_key INTEGER NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_key, name)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX run_tags_value ON run_tags (name, value, run_key);
    `,
  },
  {
    version: 16,
    name: 'run-tags-by-creation',
    sql: `
      -- Listing the runs that carry a tag (listRuns({ tags })) newest first, a page at a time: each
      -- tag keeps its run's creation time (fixed for the run's life), so the index hands the runs
      -- in listing order and a page reads its own runs, not every run carrying the value.
      CREATE TABLE run_tags_listed (
        run_key INTEGER NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (run_key, name)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO run_tags_listed (run_key, name, value, created_at)
        SELECT run_tags.run_key, run_tags.name, run_tags.value, runs.created_at FROM run_tags JOIN runs ON runs.key = run_tags.run_key;
      DROP TABLE run_tags;
      ALTER TABLE run_tags_listed RENAME TO run_tags;
      CREATE INDEX run_tags_listing ON run_tags (name, value, created_at, run_key);
    `,
  },
];

export const latestSqliteSchemaVersion = sqliteMigrations.at(-1)?.version ?? 0;
