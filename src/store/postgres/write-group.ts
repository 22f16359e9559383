/**
 * A group of writes (run creations and appends) applied by one SQL statement: one transaction,
 * one round trip, one fsync. Every check runs before the write it guards, inside the statement,
 * so a refused write leaves nothing behind and needs no savepoint; the statement reports which
 * writes were refused and why.
 *
 * The statement handles each run at most once, so a group is first cut into rounds: the second
 * append to a run in the same group goes in the next round, after the first has committed.
 */
import { KeelError } from '../../errors/index.ts';
import type { AppendBatchV1, JournalRecordV1, NewRunV1 } from '../../spec/index.ts';
import { appendEndsLease } from '../lease-handback.ts';
import { runTagsProblem } from '../run-tags.ts';

export type PendingWrite =
  | { kind: 'create'; newRun: NewRunV1; resolve: () => void; reject: (error: unknown) => void }
  | { kind: 'append'; batch: AppendBatchV1; resolve: () => void; reject: (error: unknown) => void };

export function runIdOf(write: PendingWrite): string {
  return write.kind === 'create' ? write.newRun.run.id : write.batch.runId;
}

export function recordsOf(write: PendingWrite): readonly JournalRecordV1[] {
  return write.kind === 'create' ? [write.newRun.first] : write.batch.records;
}

/**
 * What can be refused without asking the database. Times must be exactly what
 * `Date#toISOString` prints: the column is a timestamptz, and any other spelling would come back
 * different and break the record's hash.
 */
export function checkWrite(write: PendingWrite): KeelError | undefined {
  const runId = runIdOf(write);
  const records = recordsOf(write);
  if (write.kind === 'create' && (write.newRun.first.seq !== 1 || write.newRun.first.runId !== runId)) {
    return new KeelError('journal-invalid', `run ${runId}: the first record must belong to it and have seq 1`);
  }
  const tagsProblem = write.kind === 'create' && write.newRun.run.tags !== undefined ? runTagsProblem(write.newRun.run.tags) : undefined;
  if (tagsProblem !== undefined) return new KeelError('usage-invalid', `run tags: ${tagsProblem}`);
  let expected = records[0]?.seq ?? 0;
  for (const record of records) {
    if (record.runId !== runId || record.seq !== expected) {
      return new KeelError('journal-conflict', `run ${runId}: batch is not contiguous at seq ${record.seq} (expected ${expected} of run ${runId})`);
    }
    if (!isCanonicalTime(record.time)) {
      return new KeelError('journal-invalid', `run ${runId} seq ${record.seq}: time ${JSON.stringify(record.time)} is not ISO-8601 UTC with milliseconds`);
    }
    expected += 1;
  }
  return undefined;
}

function isCanonicalTime(time: string): boolean {
  const parsed = new Date(time);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString() === time;
}

/**
 * Joins appends that continue the run's previous write in the same group (contiguous seqs, same
 * fence) into one write: a run journaling step after step without waiting then costs one round,
 * not one transaction per append. The joined write settles every original the same way, which is
 * right: a later append cannot land if the one it continues did not.
 */
export function coalesceAppends(group: readonly PendingWrite[]): PendingWrite[] {
  const joined: PendingWrite[] = [];
  const lastByRun = new Map<string, number>();
  for (const write of group) {
    const runId = runIdOf(write);
    const index = lastByRun.get(runId);
    const previous = index === undefined ? undefined : joined[index];
    if (write.kind === 'append' && previous !== undefined) {
      const last = recordsOf(previous).at(-1);
      const first = write.batch.records[0];
      const sameFence = previous.kind === 'create' ? write.batch.fence === undefined : previous.batch.fence?.leaseOwner === write.batch.fence?.leaseOwner;
      // After an append that hands the run back, a fenced one must be judged against the cleared lease.
      const handedBack = previous.kind === 'append' && appendEndsLease(previous.batch.summary.status);
      if (previous.kind === 'append' && last !== undefined && first !== undefined && first.seq === last.seq + 1 && sameFence && !handedBack) {
        const earlier = previous;
        const batch: AppendBatchV1 = { ...earlier.batch, records: [...earlier.batch.records, ...write.batch.records], summary: { ...earlier.batch.summary, ...write.batch.summary } };
        joined[index as number] = {
          kind: 'append',
          batch,
          resolve: () => {
            earlier.resolve();
            write.resolve();
          },
          reject: (error) => {
            earlier.reject(error);
            write.reject(error);
          },
        };
        continue;
      }
    }
    lastByRun.set(runId, joined.length);
    joined.push(write);
  }
  return joined;
}

/** Cuts a group into rounds in which each run appears once, keeping each run's writes in order. */
export function splitIntoRounds(group: readonly PendingWrite[]): PendingWrite[][] {
  const rounds: PendingWrite[][] = [];
  const seen = new Map<string, number>();
  for (const write of group) {
    const runId = runIdOf(write);
    const round = seen.get(runId) ?? 0;
    seen.set(runId, round + 1);
    (rounds[round] ??= []).push(write);
  }
  return rounds;
}

/**
 * The statement for one round. Appends lock their run one by one in id order (so concurrent
 * statements cannot deadlock; the lateral lookup also pins the plan to primary-key probes) and are
 * checked against the locked, current row; lease expiry is judged by the database clock. An append
 * that hands its run back clears the lease in the same update. Creations skip ids that exist. A
 * creation racing another for the same id makes the statement fail on the unique key; the caller
 * then retries writes one by one.
 * Journal records of appends travel as one JSON text per write (records are expanded next to the
 * run that accepted them, with no join); `data` inside it is the payload's JSON text, kept verbatim.
 */
export function applyRoundSql(schema: string): string {
  return `
    WITH checked AS MATERIALIZED (
      SELECT write.run_id, write.status, write.reason, write.reason_present, write.step_count,
        write.input_tokens, write.output_tokens, write.cost_micros, write.last_seq, write.last_hash, write.last_time, write.records, write.ends_lease,
        CASE
          WHEN write.fence IS NOT NULL AND (locked.lease_owner IS DISTINCT FROM write.fence
            OR locked.lease_expires_at IS NULL OR locked.lease_expires_at < clock_timestamp()) THEN 'lease-lost'
          WHEN write.first_seq <> locked.last_seq + 1 THEN 'journal-conflict ' || (locked.last_seq + 1)
        END AS outcome
      FROM (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::integer[], $7::bigint[],
                             $8::bigint[], $9::integer[], $10::integer[], $11::text[], $12::timestamptz[], $13::text[],
                             $28::bigint[], $29::boolean[])
          AS write(run_id, fence, status, reason, reason_present, step_count, input_tokens, output_tokens,
                   first_seq, last_seq, last_hash, last_time, records, cost_micros, ends_lease)
        ORDER BY run_id
      ) AS write
      CROSS JOIN LATERAL (
        SELECT runs.last_seq, runs.lease_owner, runs.lease_expires_at FROM ${schema}.runs
        WHERE runs.id = write.run_id
        FOR UPDATE
      ) AS locked
    ),
    updated AS (
      UPDATE ${schema}.runs SET
        last_seq = checked.last_seq, last_hash = checked.last_hash, updated_at = checked.last_time,
        status = coalesce(checked.status, runs.status),
        reason = CASE WHEN checked.reason_present THEN checked.reason ELSE runs.reason END,
        step_count = coalesce(checked.step_count, runs.step_count),
        input_tokens = coalesce(checked.input_tokens, runs.input_tokens),
        output_tokens = coalesce(checked.output_tokens, runs.output_tokens),
        cost_micros = coalesce(checked.cost_micros, runs.cost_micros),
        lease_owner = CASE WHEN checked.ends_lease THEN NULL ELSE runs.lease_owner END,
        lease_expires_at = CASE WHEN checked.ends_lease THEN NULL ELSE runs.lease_expires_at END
      FROM checked
      WHERE runs.id = checked.run_id AND checked.outcome IS NULL
      RETURNING runs.id, checked.records
    ),
    creations AS MATERIALIZED (
      SELECT * FROM unnest($14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[],
                           $21::double precision[], $22::timestamptz[], $23::text[], $24::text[], $25::integer[],
                           $26::text[], $27::text[], $30::text[])
        AS creation(run_id, task, task_version, principal, tenant, status, lease_owner, lease_ms,
                    time, hash, type, schema_version, prev_hash, data, tags)
      WHERE NOT EXISTS (SELECT 1 FROM ${schema}.runs WHERE runs.id = creation.run_id)
    ),
    created AS (
      INSERT INTO ${schema}.runs (id, task, task_version, principal, tenant, status, reason, created_at, updated_at,
        last_seq, last_hash, step_count, input_tokens, output_tokens, lease_owner, lease_expires_at)
      SELECT run_id, task, task_version, principal, tenant, status, NULL, time, time, 1, hash, 0, 0, 0, lease_owner,
        CASE WHEN lease_owner IS NULL THEN NULL ELSE clock_timestamp() + lease_ms * interval '1 millisecond' END
      FROM creations
      RETURNING id
    ),
    tagged AS (
      INSERT INTO ${schema}.run_tags (run_id, name, value, created_at)
      SELECT creation.run_id, tag.key, tag.value, creation.time FROM creations AS creation CROSS JOIN LATERAL json_each_text(creation.tags::json) AS tag
    ),
    journaled AS (
      INSERT INTO ${schema}.journal (run_id, seq, time, type, schema_version, prev_hash, hash, data)
      SELECT updated.id, entry.seq, entry.time, entry.type, entry.schema_version, entry.prev_hash, entry.hash, entry.data
      FROM updated CROSS JOIN LATERAL json_to_recordset(updated.records::json)
        AS entry(seq integer, time timestamptz, type text, schema_version integer, prev_hash text, hash text, data text)
      UNION ALL
      SELECT run_id, 1, time, type, schema_version, prev_hash, hash, data FROM creations
    )
    SELECT run_id, outcome FROM checked
    UNION ALL
    SELECT id, 'created' FROM created`;
}

/**
 * The round's 30 parameters: 13 parallel arrays for appends, 14 for creations, then the appends'
 * costs and whether each append hands its run back (lease-handback.ts), then the creations' tags
 * (a JSON object each, or null).
 */
export function applyRoundParameters(round: readonly PendingWrite[]): unknown[][] {
  const appends: AppendBatchV1[] = [];
  const creations: NewRunV1[] = [];
  for (const write of round) {
    if (write.kind === 'append') appends.push(write.batch);
    else creations.push(write.newRun);
  }
  return [
    appends.map((batch) => batch.runId),
    appends.map((batch) => batch.fence?.leaseOwner ?? null),
    appends.map((batch) => batch.summary.status ?? null),
    appends.map((batch) => batch.summary.reason ?? null),
    appends.map((batch) => batch.summary.reason !== undefined),
    appends.map((batch) => batch.summary.stepCount ?? null),
    appends.map((batch) => batch.summary.inputTokens ?? null),
    appends.map((batch) => batch.summary.outputTokens ?? null),
    appends.map((batch) => batch.records[0]?.seq ?? null),
    appends.map((batch) => batch.records.at(-1)?.seq ?? null),
    appends.map((batch) => batch.records.at(-1)?.hash ?? null),
    appends.map((batch) => batch.records.at(-1)?.time ?? null),
    appends.map((batch) => JSON.stringify(batch.records.map(toRecordColumns))),
    creations.map((newRun) => newRun.run.id),
    creations.map((newRun) => newRun.run.task),
    creations.map((newRun) => newRun.run.taskVersion),
    creations.map((newRun) => newRun.run.principal),
    creations.map((newRun) => newRun.run.tenant),
    creations.map((newRun) => newRun.run.status),
    creations.map((newRun) => newRun.lease?.owner ?? null),
    creations.map((newRun) => newRun.lease?.leaseMs ?? null),
    creations.map((newRun) => newRun.first.time),
    creations.map((newRun) => newRun.first.hash),
    creations.map((newRun) => newRun.first.type),
    creations.map((newRun) => newRun.first.schemaVersion),
    creations.map((newRun) => newRun.first.prevHash),
    creations.map((newRun) => JSON.stringify(newRun.first.data)),
    appends.map((batch) => batch.summary.costMicros ?? null),
    appends.map((batch) => appendEndsLease(batch.summary.status)),
    creations.map((newRun) => (newRun.run.tags === undefined || Object.keys(newRun.run.tags).length === 0 ? null : JSON.stringify(newRun.run.tags))),
  ];
}

function toRecordColumns(record: JournalRecordV1): Record<string, unknown> {
  return {
    seq: record.seq,
    time: record.time,
    type: record.type,
    schema_version: record.schemaVersion,
    prev_hash: record.prevHash,
    hash: record.hash,
    data: JSON.stringify(record.data),
  };
}

/** The statement's rows (refused or accepted appends, created runs) as each write's error, if any. */
export function roundOutcomes(round: readonly PendingWrite[], rows: readonly { run_id: string; outcome: string | null }[]): (KeelError | undefined)[] {
  const outcomes = new Map(rows.map((row) => [row.run_id, row.outcome]));
  return round.map((write) => {
    const runId = runIdOf(write);
    const outcome = outcomes.get(runId);
    if (write.kind === 'create') return outcome === 'created' ? undefined : new KeelError('run-exists', `run ${runId} already exists`);
    if (outcome === undefined) return new KeelError('run-not-found', `run ${runId} not found`);
    if (outcome === null) return undefined;
    const [code, expected] = outcome.split(' ');
    if (code === 'lease-lost') {
      return new KeelError('lease-lost', `worker ${write.batch.fence?.leaseOwner} no longer holds the lease on run ${runId}`);
    }
    if (code === 'journal-conflict') {
      return new KeelError(
        'journal-conflict',
        `run ${runId}: expected seq ${expected}, got ${write.batch.records[0]?.seq} (another writer appended, or the batch is not contiguous)`,
      );
    }
    return new KeelError('internal', `run ${runId}: unexpected write outcome ${JSON.stringify(outcome)}`);
  });
}
