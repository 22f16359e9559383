import type { Pool, PoolClient } from 'pg';
import { KeelError } from '../../errors/index.ts';
import type {
  AppendBatchV1,
  ClaimRequestV1,
  JournalRecordV1,
  LeaseRenewalV1,
  MemoryEntryV1,
  MemoryReadOptionsV1,
  MemoryReplacedV1,
  MemoryReplacementV1,
  MemoryScopeV1,
  NewMemoryEntryV1,
  NewRunV1,
  RunQueryV1,
  RunRecordV1,
  RunStatusV1,
  SpendQueryV1,
  SpendRowV1,
  StopRequestV1,
  StoreV1,
} from '../../spec/index.ts';
import { checkRunQueryPeriod } from '../period.ts';
import { checkRunTagFilter } from '../run-tags.ts';
import { checkSpendQuery } from '../spend-query.ts';
import type { CheckedSpendQuery } from '../spend-query.ts';
import { checkNewEntry, memoryKey, readLimit, sameKey, toMemoryEntry } from '../memory-scope.ts';
import type { MemoryKey } from '../memory-scope.ts';
import { parseConnectionUrl } from './connection-url.ts';
import { PostgresAuditLog } from './postgres-audit-log.ts';
import { PostgresBreakerStates } from './postgres-breaker-states.ts';
import { PostgresConcurrencySlots } from './postgres-concurrency-slots.ts';
import { PostgresBudgetBook } from './postgres-budget-book.ts';
import { PostgresRateLimiter } from './postgres-rate-limiter.ts';
import { PostgresKeyStore } from './postgres-key-store.ts';
import { PostgresDatasets } from './postgres-datasets.ts';
import { PostgresTelemetryCursors } from './postgres-telemetry-cursors.ts';
import { PostgresResponseCache } from './postgres-response-cache.ts';
import { PostgresSubjectKeys } from './postgres-subject-keys.ts';
import { PostgresRunRetention } from './postgres-run-retention.ts';
import { checkReadable, migrate } from './migrations.ts';
import { describeError, isCertificateError, isServerError, isUniqueViolation, toStoreError } from './postgres-errors.ts';
import { journalColumns, runColumnsOf, toJournalRecord, toRunRecord } from './row-mapping.ts';
import type { JournalRow, RunRow } from './row-mapping.ts';
import { checkSchemaName, quoteIdentifier } from './sql-identifiers.ts';
import { applyRoundParameters, applyRoundSql, checkWrite, coalesceAppends, roundOutcomes, splitIntoRounds } from './write-group.ts';
import type { PendingWrite } from './write-group.ts';
import { WriteQueue } from './write-queue.ts';

export interface PostgresStoreOptions {
  /** postgres://user[:password]@host[:port]/database */
  url: string;
  /** The schema holding Keel's tables; default `keel`. */
  schema?: string;
  /** Connections in the pool; default 10. Writes use one at a time (group commit). */
  poolSize?: number;
  /** Create the schema when it is missing or empty (default true); otherwise either is `db-missing`. */
  create?: boolean;
  /**
   * Open for reading only: the connections are read-only sessions and the schema must already be
   * Keel's at the latest version; nothing is created or migrated. Read commands pass true.
   */
  readOnly?: boolean;
}

export interface PostgresStoreStats {
  /** Write transactions issued (each group commit is one). */
  transactions: number;
  /** Writes (createRun and append calls) committed. */
  writes: number;
}

const defaultClaimable: RunStatusV1[] = ['queued', 'running'];
// The statuses listRuns may write into its SQL as literals: Keel's own words, never caller text.
const runStatuses: ReadonlySet<string> = new Set<RunStatusV1>(['queued', 'running', 'waiting', 'ok', 'degraded', 'escalated', 'failed']);
const connectTimeoutMs = 10_000;
// Two writers appending to one scope at once may pick the same seq; the loser retries.
const memoryAppendAttempts = 8;

interface MemoryRow {
  seq: number;
  role: string;
  text: string;
  labels: string;
  created_at: string;
  source_run_id: string | null;
  source_step: number | null;
  content_hash: string;
  summarises: string | null;
}

interface SpendRow {
  spend_group: string | null;
  run_count: string;
  total_cost_micros: string;
  total_input_tokens: string;
  total_output_tokens: string;
}

const memoryColumns = 'seq, role, text, labels, created_at, source_run_id, source_step, content_hash, summarises';

function memoryEntryOf(key: MemoryKey, row: MemoryRow): MemoryEntryV1 {
  return toMemoryEntry(key, {
    seq: row.seq,
    role: row.role,
    text: row.text,
    labels: row.labels,
    createdAt: row.created_at,
    sourceRunId: row.source_run_id,
    sourceStep: row.source_step,
    contentHash: row.content_hash,
    summarises: row.summarises,
  });
}

function memoryValues(key: MemoryKey, entry: NewMemoryEntryV1): unknown[] {
  return [key.tenant, key.kind, key.id, entry.role, entry.text, JSON.stringify(entry.labels), entry.createdAt, entry.source.runId, entry.source.step, entry.contentHash];
}

/**
 * The shared store: many Keel processes on many machines use one database. Writes go through
 * group commit (write-queue.ts, write-group.ts); lease times use the database clock only, since
 * the machines' clocks disagree.
 */
export class PostgresStore implements StoreV1 {
  readonly specificationVersion = 'v1';
  readonly dialect = 'postgres';
  readonly location: string;
  /** Budget accounts shared by every process on this schema. */
  readonly budgets: PostgresBudgetBook;
  /** The Merkle log of run checkpoints and its signed tree heads. */
  readonly auditLog: PostgresAuditLog;
  /** Rate-limit windows and breaker state shared by every process on this schema. */
  readonly rateLimits: PostgresRateLimiter;
  readonly breakers: PostgresBreakerStates;
  /** Concurrency-limit (bulkhead) slots shared by every process on this schema. */
  readonly concurrency: PostgresConcurrencySlots;
  /** The gateway's virtual keys, shared by every process on this schema. */
  readonly keys: PostgresKeyStore;
  /** Evaluation datasets pinned from the journal, shared by every process on this schema. */
  readonly datasets: PostgresDatasets;
  /** Where telemetry exporters keep their place in the journal, shared by every process on this schema. */
  readonly telemetryCursors: PostgresTelemetryCursors;
  /** Answers the gateway's cache keeps for every process on this schema. */
  readonly responseCache: PostgresResponseCache;
  /** Per-subject keys sealing labelled payload fields, and their redactions, shared by every process on this schema. */
  readonly subjectKeys: PostgresSubjectKeys;
  /** Deletion of ended runs past their retention period. */
  readonly retention: PostgresRunRetention;

  readonly #pool: Pool;
  readonly #sql: ReturnType<typeof statements>;
  readonly #queue: WriteQueue;
  readonly #stats: PostgresStoreStats = { transactions: 0, writes: 0 };
  #closing: Promise<void> | undefined;

  private constructor(pool: Pool, schemaName: string, location: string) {
    this.#pool = pool;
    this.location = location;
    this.#sql = statements(quoteIdentifier(schemaName));
    this.#queue = new WriteQueue((group) => this.#commitGroup(group));
    const connect = () => (this.#closing === undefined ? pool.connect() : Promise.reject(this.#closedError()));
    this.budgets = new PostgresBudgetBook(pool, quoteIdentifier(schemaName), location, connect);
    this.auditLog = new PostgresAuditLog(pool, quoteIdentifier(schemaName), location, () => (this.#closing === undefined ? pool.connect() : Promise.reject(this.#closedError())));
    this.rateLimits = new PostgresRateLimiter(quoteIdentifier(schemaName), location, connect);
    this.breakers = new PostgresBreakerStates(quoteIdentifier(schemaName), location, connect);
    this.concurrency = new PostgresConcurrencySlots(quoteIdentifier(schemaName), location, connect);
    this.keys = new PostgresKeyStore(pool, quoteIdentifier(schemaName), location);
    this.datasets = new PostgresDatasets(pool, quoteIdentifier(schemaName), location);
    this.telemetryCursors = new PostgresTelemetryCursors(pool, quoteIdentifier(schemaName), location);
    this.responseCache = new PostgresResponseCache(pool, quoteIdentifier(schemaName), location);
    this.subjectKeys = new PostgresSubjectKeys(pool, quoteIdentifier(schemaName), location);
    this.retention = new PostgresRunRetention(pool, quoteIdentifier(schemaName), location);
  }

  /** Validates the URL, connects, and creates or migrates the schema (or, read-only, checks it). */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const target = parseConnectionUrl(options.url);
    const schemaName = checkSchemaName(options.schema ?? 'keel');
    const readOnly = options.readOnly === true;
    // The driver loads with the first PostgreSQL store: importing the store component (every CLI
    // command does) must not cost SQLite users its start-up.
    const { Pool } = await import('pg');
    const pool = new Pool({
      connectionString: target.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: connectTimeoutMs,
      application_name: 'keel',
      // Generic plans: PostgreSQL otherwise re-plans the group write statement on every call (its
      // custom plan for a one-write group always looks cheaper), which doubles a lone append's cost.
      // Keel's statements are key lookups or index walks whose best plan does not depend on the
      // values, but for listRuns by one status: it writes the status as a literal, so its plan does.
      // No JIT: a generic plan expects `LIMIT $n` to read a tenth of the table (each row with its
      // tags subquery), so a page of listRuns on 100,000 runs was costed past jit_above_cost and
      // compiled by LLVM on every call: 100-150 ms without statistics (inlined and optimised), 10-15
      // ms with them, for 1-2 ms of execution. Spend summaries and listRunIds ran no faster with it.
      // Set at connection start-up, so no query races the pool's first use of the connection.
      // A reader's sessions refuse every write at the server, whatever a statement would do.
      options: `-c plan_cache_mode=force_generic_plan -c jit=off${readOnly ? ' -c default_transaction_read_only=on' : ''}`,
    });
    // An idle connection dropped by the server emits here; without a listener it would crash the
    // process. The next query on the pool reports the problem instead.
    pool.on('error', () => undefined);
    // A connection checked out for a transaction (budgets, rate limits, breakers, memory) has no
    // pool listener while out; the server dropping it then (a restart) would emit an unhandled
    // 'error' and crash the process. Its queries fail instead, and the pool discards it on release.
    pool.on('connect', (client) => client.on('error', () => undefined));
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      await pool.end().catch(() => undefined);
      const note = target.sslNote !== undefined && isCertificateError(error) ? ` (${target.sslNote})` : '';
      throw new KeelError('db-unavailable', `cannot connect to PostgreSQL at ${target.address}: ${describeError(error)}${note}`, { cause: error });
    }
    try {
      if (readOnly) await checkReadable(client, schemaName, target.address);
      else await migrate(client, schemaName, { create: options.create ?? true, address: target.address });
    } catch (error) {
      client.release();
      await pool.end().catch(() => undefined);
      throw toStoreError(error, `cannot prepare schema ${schemaName} at ${target.address}`);
    }
    client.release();
    return new PostgresStore(pool, schemaName, `${target.redactedUrl}#${schemaName}`);
  }

  /** Counters for benchmarks and tests: how well group commit is batching. */
  get stats(): Readonly<PostgresStoreStats> {
    return { ...this.#stats };
  }

  createRun(newRun: NewRunV1): Promise<void> {
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'create', newRun, resolve, reject }));
  }

  append(batch: AppendBatchV1): Promise<void> {
    if (batch.records.length === 0) {
      if (Object.keys(batch.summary).length > 0) {
        return Promise.reject(new KeelError('journal-invalid', `append to run ${batch.runId} has a summary but no records`));
      }
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#enqueue({ kind: 'append', batch, resolve, reject }));
  }

  #enqueue(write: PendingWrite): void {
    if (this.#closing !== undefined) {
      write.reject(this.#closedError());
      return;
    }
    const refusal = checkWrite(write);
    if (refusal !== undefined) write.reject(refusal);
    else this.#queue.push(write);
  }

  async #commitGroup(group: PendingWrite[]): Promise<void> {
    for (const round of splitIntoRounds(coalesceAppends(group))) await this.#commitRound(round);
  }

  async #commitRound(round: PendingWrite[]): Promise<void> {
    let rows: { run_id: string; outcome: string | null }[];
    try {
      this.#stats.transactions += 1;
      const result = await this.#pool.query<{ run_id: string; outcome: string | null }>({
        name: 'keel-apply-round',
        text: this.#sql.applyRound,
        values: applyRoundParameters(round),
      });
      rows = result.rows;
    } catch (error) {
      // The server refused the statement (a value the checks did not foresee, or two processes
      // creating one run id): nothing was written, so retry each write alone and let only the bad
      // one fail. A lost connection is different: the commit may or may not have happened, and
      // every write must say so.
      if (round.length > 1 && isServerError(error)) {
        for (const write of round) await this.#commitRound([write]);
        return;
      }
      const failure =
        round[0]?.kind === 'create' && isUniqueViolation(error)
          ? new KeelError('run-exists', `run ${round[0].newRun.run.id} already exists`)
          : toStoreError(error, `cannot write to ${this.location}`);
      for (const write of round) write.reject(failure);
      return;
    }
    const outcomes = roundOutcomes(round, rows);
    round.forEach((write, index) => {
      const failure = outcomes[index];
      if (failure === undefined) {
        this.#stats.writes += 1;
        write.resolve();
      } else {
        write.reject(failure);
      }
    });
  }

  async readJournal(runId: string, afterSeq = 0): Promise<JournalRecordV1[]> {
    const rows = await this.#query<JournalRow>('keel-read-journal', this.#sql.readJournal, [runId, afterSeq]);
    return rows.map(toJournalRecord);
  }

  async getRun(runId: string): Promise<RunRecordV1 | undefined> {
    const rows = await this.#query<RunRow>('keel-get-run', this.#sql.getRun, [runId]);
    const row = rows[0];
    return row === undefined ? undefined : toRunRecord(row);
  }

  async listRuns(query: RunQueryV1 = {}): Promise<RunRecordV1[]> {
    const [first, ...others] = checkRunTagFilter(query.tags);
    const { since, until } = checkRunQueryPeriod(query);
    const conditions: string[] = [];
    const values: unknown[] = [];
    const parameter = (value: unknown): string => {
      values.push(value);
      return `$${values.length}`;
    };
    // One status by =, as a literal: the plan then knows how many runs have it and reads a rare
    // one (waiting, queued) from runs_status_created at its newest run. As a parameter the generic
    // plan costs every status alike and, after ANALYZE, walked runs_created past all the other
    // runs (31 ms on 100,000); with ANY it cannot bound that index at all.
    const lone = query.statuses?.length === 1 ? query.statuses[0] : undefined;
    const status = lone === undefined ? undefined : runStatuses.has(lone) ? `'${lone}'` : parameter(lone);
    if (status !== undefined) conditions.push(`runs.status = ${status}`);
    else if (query.statuses !== undefined) conditions.push(`runs.status = ANY (${parameter(query.statuses)}::text[])`);
    if (query.task !== undefined) conditions.push(`runs.task = ${parameter(query.task)}`);
    const { runs, runColumns, runTags } = this.#sql;
    // The period bounds the index the page walks: runs_created, or the first tag's.
    const created = first === undefined ? 'runs.created_at' : 'listed.created_at';
    if (since !== undefined) conditions.push(`${created} >= ${parameter(since)}::timestamptz`);
    if (until !== undefined) conditions.push(`${created} < ${parameter(until)}::timestamptz`);
    if (first === undefined) {
      // With one status the cursor leads with it, so it bounds runs_status_created: as
      // (created_at, id) alone the generic plan costed runs_created cheaper and walked it instead.
      if (query.after !== undefined) {
        const after = `${parameter(query.after.createdAt)}::timestamptz, ${parameter(query.after.id)}`;
        conditions.push(status === undefined ? `(runs.created_at, runs.id) < (${after})` : `(runs.status, runs.created_at, runs.id) < (${status}, ${after})`);
      }
      const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
      const text = `SELECT ${runColumns} FROM ${runs} ${where} ORDER BY created_at DESC, id DESC LIMIT ${parameter(query.limit ?? 100)}`;
      return (await this.#query<RunRow>(undefined, text, values)).map(toRunRecord);
    }
    // By tag: the first tag's index (name, value, created_at, run_id) is in the listing's order, so
    // a page walks it backwards from the cursor, checks each run's row by id and its other tags by
    // their primary key, and stops at `limit`. Those are subqueries, not joins, as in
    // summarizeSpend: the plan is generic, and a join could hash every tag of that name.
    conditions.push(`listed.name = ${parameter(first[0])}`, `listed.value = ${parameter(first[1])}`);
    for (const [name, value] of others) {
      conditions.push(`(SELECT also.value FROM ${runTags} AS also WHERE also.run_id = listed.run_id AND also.name = ${parameter(name)}) = ${parameter(value)}`);
    }
    if (query.after !== undefined) conditions.push(`(listed.created_at, listed.run_id) < (${parameter(query.after.createdAt)}::timestamptz, ${parameter(query.after.id)})`);
    const text = `
      WITH page AS (
        SELECT listed.run_id AS page_run_id FROM ${runTags} AS listed JOIN ${runs} ON runs.id = listed.run_id
        WHERE ${conditions.join(' AND ')}
        ORDER BY listed.created_at DESC, listed.run_id DESC LIMIT ${parameter(query.limit ?? 100)})
      SELECT ${runColumns} FROM page JOIN ${runs} ON runs.id = page.page_run_id ORDER BY created_at DESC, id DESC`;
    return (await this.#query<RunRow>(undefined, text, values)).map(toRunRecord);
  }

  async listRunIds(): Promise<string[]> {
    const rows = await this.#query<{ id: string }>('keel-list-run-ids', this.#sql.listRunIds, []);
    return rows.map((row) => row.id);
  }

  async summarizeSpend(query: SpendQueryV1): Promise<SpendRowV1[]> {
    const checked = checkSpendQuery(query);
    const { column, since, until } = checked;
    const values = checked.column === 'tag' ? [since, until, checked.tag] : [since, until];
    const rows = await this.#query<SpendRow>(`keel-summarize-spend-by-${column}`, this.#sql.summarizeSpend(column), values);
    // count and sum of bigint come back as text (bigint and numeric).
    return rows.map((row) => ({
      group: row.spend_group,
      runs: Number(row.run_count),
      costMicros: Number(row.total_cost_micros),
      inputTokens: Number(row.total_input_tokens),
      outputTokens: Number(row.total_output_tokens),
    }));
  }

  async claimRuns(request: ClaimRequestV1): Promise<RunRecordV1[]> {
    if (request.limit <= 0) return [];
    const values = [request.owner, request.leaseMs, request.statuses ?? defaultClaimable, request.limit, request.tasks ?? null];
    return (await this.#query<RunRow>('keel-claim-runs', this.#sql.claimRuns, values)).map(toRunRecord);
  }

  async renewLease(runId: string, owner: string, leaseMs: number): Promise<LeaseRenewalV1> {
    const [row] = await this.#query<{ stop_requested: string | null }>('keel-renew-lease', this.#sql.renewLease, [runId, owner, leaseMs]);
    return { held: row !== undefined, stopRequested: row?.stop_requested == null ? null : (JSON.parse(row.stop_requested) as StopRequestV1) };
  }

  async claimRun(runId: string, request: { owner: string; leaseMs: number; statuses: RunStatusV1[] }): Promise<RunRecordV1 | undefined> {
    const [row] = await this.#query<RunRow>('keel-claim-run', this.#sql.claimRun, [runId, request.owner, request.leaseMs, request.statuses]);
    return row === undefined ? undefined : toRunRecord(row);
  }

  async requestStop(runId: string, request: StopRequestV1): Promise<RunRecordV1 | undefined> {
    const [row] = await this.#query<RunRow>('keel-request-stop', this.#sql.requestStop, [runId, JSON.stringify(request)]);
    return row === undefined ? undefined : toRunRecord(row);
  }

  async releaseLease(runId: string, owner: string): Promise<void> {
    await this.#query('keel-clear-lease', this.#sql.clearLease, [runId, owner]);
  }

  async breakLease(runId: string, expectedOwner: string): Promise<boolean> {
    return (await this.#query('keel-clear-lease', this.#sql.clearLease, [runId, expectedOwner])).length > 0;
  }

  async appendMemory(entry: NewMemoryEntryV1): Promise<MemoryEntryV1> {
    const key = checkNewEntry(entry);
    for (let attempt = 1; ; attempt += 1) {
      try {
        const [row] = await this.#query<MemoryRow>('keel-append-memory', this.#sql.appendMemory, memoryValues(key, entry));
        if (row === undefined) throw new KeelError('internal', 'memory insert returned no row');
        return memoryEntryOf(key, row);
      } catch (error) {
        if (attempt >= memoryAppendAttempts || !(error instanceof KeelError && error.code === 'journal-conflict')) throw error;
      }
    }
  }

  async readMemory(scope: MemoryScopeV1, options: MemoryReadOptionsV1 = {}): Promise<MemoryEntryV1[]> {
    const key = memoryKey(scope);
    const rows = await this.#query<MemoryRow>('keel-read-memory', this.#sql.readMemory, [key.tenant, key.kind, key.id, options.afterSeq ?? 0, readLimit(options.limit)]);
    return rows.map((row) => memoryEntryOf(key, row));
  }

  async replaceMemory(scope: MemoryScopeV1, replacement: MemoryReplacementV1): Promise<MemoryEntryV1> {
    const key = memoryKey(scope);
    if (!sameKey(key, checkNewEntry(replacement.summary))) {
      throw new KeelError('config-invalid', 'a memory summary must belong to the scope it replaces');
    }
    if (this.#closing !== undefined) throw this.#closedError();
    let client: PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw toStoreError(error, `cannot connect to ${this.location}`);
    }
    try {
      await client.query('BEGIN');
      const deleted = await client.query<{ seq: number; content_hash: string; source_run_id: string | null; source_step: number | null }>(
        this.#sql.deleteMemoryUpTo,
        [key.tenant, key.kind, key.id, replacement.upToSeq],
      );
      const replaced: MemoryReplacedV1[] = deleted.rows
        .map((row) => ({ seq: row.seq, contentHash: row.content_hash, source: { runId: row.source_run_id, step: row.source_step } }))
        .sort((a, b) => a.seq - b.seq);
      const last = replaced.at(-1);
      if (last === undefined) {
        throw new KeelError('journal-conflict', `no ${key.kind} memory at or below seq ${replacement.upToSeq} to replace (already summarised?)`);
      }
      const inserted = await client.query<MemoryRow>(this.#sql.insertMemory, [...memoryValues(key, replacement.summary), last.seq, JSON.stringify(replaced)]);
      await client.query('COMMIT');
      const row = inserted.rows[0];
      if (row === undefined) throw new KeelError('internal', 'memory summary insert returned no row');
      return memoryEntryOf(key, row);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw toStoreError(error, `cannot summarise memory in ${this.location}`);
    } finally {
      client.release();
    }
  }

  /** Commits the writes already issued, then closes every connection. */
  close(): Promise<void> {
    this.#closing ??= this.#queue.idle().then(() => this.#pool.end());
    return this.#closing;
  }

  async #query<Row extends object>(name: string | undefined, text: string, values: unknown[]): Promise<Row[]> {
    if (this.#closing !== undefined) throw this.#closedError();
    try {
      const result = await this.#pool.query<Row>(name === undefined ? { text, values } : { name, text, values });
      return result.rows;
    } catch (error) {
      throw toStoreError(error, `cannot query ${this.location}`);
    }
  }

  #closedError(): KeelError {
    return new KeelError('db-unavailable', `store ${this.location} is closed`, { retryable: false });
  }
}

// Lease arithmetic uses clock_timestamp(): the database's clock, read at the moment of the check.
function statements(schema: string) {
  const runs = `${schema}.runs`;
  const runColumns = runColumnsOf(schema);
  const leaseExpiry = (parameter: string): string => `clock_timestamp() + ${parameter}::double precision * interval '1 millisecond'`;
  return {
    runs,
    runTags: `${schema}.run_tags`,
    runColumns,
    applyRound: applyRoundSql(schema),
    readJournal: `SELECT ${journalColumns} FROM ${schema}.journal WHERE run_id = $1 AND seq > $2 ORDER BY seq`,
    getRun: `SELECT ${runColumns} FROM ${runs} WHERE id = $1`,
    listRunIds: `SELECT id FROM ${runs} ORDER BY created_at, id`,
    // The column comes from checkSpendQuery's fixed lookup. COLLATE "C": groups tie-break in byte
    // order, as on SQLite, whatever the database's collation. By tag ($3, its name), each run of the
    // period looks its value up by the tags' primary key: a subquery, not a join, because with the
    // generic plan a join hashed every tag of that name, whatever the period (the work grows with
    // the whole history, not the month). A run without the tag is the NULL group, after the others of its cost.
    summarizeSpend: (column: CheckedSpendQuery['column']) => {
      const group = column === 'tag' ? `(SELECT tag.value FROM ${schema}.run_tags AS tag WHERE tag.run_id = runs.id AND tag.name = $3)` : `runs.${column}`;
      return `
      SELECT spend_group, count(*) AS run_count, sum(cost_micros) AS total_cost_micros,
        sum(input_tokens) AS total_input_tokens, sum(output_tokens) AS total_output_tokens
      FROM (SELECT ${group} AS spend_group, cost_micros, input_tokens, output_tokens FROM ${runs}
        WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz) AS period
      GROUP BY spend_group ORDER BY total_cost_micros DESC, spend_group COLLATE "C" NULLS LAST`;
    },
    // SKIP LOCKED lets concurrent claimers pass over each other's candidates instead of queueing.
    claimRuns: `
      WITH claimed AS (
        UPDATE ${runs} SET lease_owner = $1, lease_expires_at = ${leaseExpiry('$2')}
        WHERE id IN (
          SELECT id FROM ${runs}
          WHERE status = ANY ($3::text[]) AND ($5::text[] IS NULL OR task = ANY ($5::text[]))
            AND (lease_owner IS NULL OR lease_expires_at < clock_timestamp())
          ORDER BY created_at, id LIMIT $4
          FOR UPDATE SKIP LOCKED)
        RETURNING ${runColumns})
      SELECT * FROM claimed ORDER BY created_at, id`,
    // An expired lease nobody has taken is still the owner's to renew.
    renewLease: `UPDATE ${runs} SET lease_expires_at = ${leaseExpiry('$3')} WHERE id = $1 AND lease_owner = $2 RETURNING stop_requested`,
    claimRun: `UPDATE ${runs} SET lease_owner = $2, lease_expires_at = ${leaseExpiry('$3')}
      WHERE id = $1 AND status = ANY ($4::text[]) AND (lease_owner IS NULL OR lease_expires_at < clock_timestamp())
      RETURNING ${runColumns}`,
    requestStop: `UPDATE ${runs} SET stop_requested = coalesce(stop_requested, $2) WHERE id = $1 RETURNING ${runColumns}`,
    // The seq is the scope's next; a concurrent append to the same scope fails the primary key and retries.
    appendMemory: `INSERT INTO ${schema}.memory
        (tenant, scope_kind, scope_id, role, text, labels, created_at, source_run_id, source_step, content_hash, seq, summarises)
      SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, coalesce(max(seq), 0) + 1, NULL
        FROM ${schema}.memory WHERE tenant = $1 AND scope_kind = $2 AND scope_id = $3
      RETURNING ${memoryColumns}`,
    readMemory: `SELECT ${memoryColumns} FROM ${schema}.memory
      WHERE tenant = $1 AND scope_kind = $2 AND scope_id = $3 AND seq > $4 ORDER BY seq LIMIT $5`,
    deleteMemoryUpTo: `DELETE FROM ${schema}.memory WHERE tenant = $1 AND scope_kind = $2 AND scope_id = $3 AND seq <= $4
      RETURNING seq, content_hash, source_run_id, source_step`,
    insertMemory: `INSERT INTO ${schema}.memory
        (tenant, scope_kind, scope_id, role, text, labels, created_at, source_run_id, source_step, content_hash, seq, summarises)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
      RETURNING ${memoryColumns}`,
    clearLease: `UPDATE ${runs} SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2 RETURNING id`,
  };
}
