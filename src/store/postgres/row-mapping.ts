/** Rows as pg returns them (timestamptz as Date, bigint as string) turned into spec records. */
import { KeelError } from '../../errors/index.ts';
import type { JournalRecordV1, JsonValue, RunRecordV1, RunStatusV1 } from '../../spec/index.ts';

export interface RunRow {
  id: string;
  task: string;
  task_version: string;
  principal: string;
  tenant: string;
  status: string;
  reason: string | null;
  created_at: Date;
  updated_at: Date;
  last_seq: number;
  last_hash: string;
  step_count: number;
  input_tokens: string;
  output_tokens: string;
  cost_micros: string;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  stop_requested: string | null;
  /** The run's tags as one JSON object (json, which pg parses), null when it has none. */
  tags: Record<string, string> | null;
}

export interface JournalRow {
  run_id: string;
  seq: number;
  time: Date;
  type: string;
  schema_version: number;
  prev_hash: string;
  hash: string;
  data: string;
}

/**
 * A run's columns and its tags, for a statement whose runs table is reachable as `runs` (not
 * aliased): each row finds its tags by their primary key.
 */
export function runColumnsOf(schema: string): string {
  const tags = `(SELECT json_object_agg(tag.name, tag.value ORDER BY tag.name COLLATE "C") FROM ${schema}.run_tags AS tag WHERE tag.run_id = runs.id) AS tags`;
  return `id, task, task_version, principal, tenant, status, reason, created_at, updated_at, last_seq, last_hash, step_count, input_tokens, output_tokens, cost_micros, lease_owner, lease_expires_at, stop_requested, ${tags}`;
}

export const journalColumns = 'run_id, seq, time, type, schema_version, prev_hash, hash, data';

export function toRunRecord(row: RunRow): RunRecordV1 {
  const record: RunRecordV1 = {
    id: row.id,
    task: row.task,
    taskVersion: row.task_version,
    principal: row.principal,
    tenant: row.tenant,
    status: row.status as RunStatusV1,
    reason: row.reason,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    lastSeq: row.last_seq,
    lastHash: row.last_hash,
    stepCount: row.step_count,
    // Token totals are bigint columns; pg returns them as strings to avoid silent precision loss.
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    costMicros: Number(row.cost_micros),
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at === null ? null : row.lease_expires_at.toISOString(),
    stopRequested: row.stop_requested === null ? null : (JSON.parse(row.stop_requested) as RunRecordV1['stopRequested']),
  };
  if (row.tags !== null) record.tags = row.tags;
  return record;
}

export function toJournalRecord(row: JournalRow): JournalRecordV1 {
  return {
    runId: row.run_id,
    seq: row.seq,
    time: row.time.toISOString(),
    type: row.type,
    schemaVersion: row.schema_version,
    prevHash: row.prev_hash,
    hash: row.hash,
    data: parsePayload(row),
  };
}

function parsePayload(row: JournalRow): JsonValue {
  try {
    return JSON.parse(row.data) as JsonValue;
  } catch (error) {
    throw new KeelError('db-unreadable', `run ${row.run_id} seq ${row.seq}: stored payload is not JSON`, { cause: error });
  }
}
