/**
 * The retention policy: ended runs older than the configured period (`retention.runs`, e.g.
 * `180d`, six months as Art. 26(6) of the EU AI Act asks at least) are deleted, journaled first.
 * Before deleting anything, the job journals a retention record naming each run by its head and
 * signed with the audit signing key (src/audit/retention-records.ts), in a run of its own (task
 * `run-retention`, step `retention-apply`); `keel audit verify` then accepts those runs' absence,
 * and still reports any run deleted without such a record. The records themselves, and the runs
 * recording redactions, are never deleted by retention: they are the proof of what was done.
 */
import type { RetainedRunHead, RetentionRecord, SigningKey } from '../audit/index.ts';
import { loadSigningKey, retentionStepName, retentionTaskName, signRetentionRecord } from '../audit/index.ts';
import type { TaskDefinition } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import type { JsonValue, RunRecordV1, StoreV1 } from '../spec/index.ts';
import { redactionTaskName } from './redact-subject.ts';

const dayMs = 86_400_000;
// One record per batch keeps each journaled record (and each delete transaction) bounded.
const batchSize = 1_000;

/** `180d`: days, a whole number from 1 to 36500. */
export function parseRetentionPeriod(text: string, where = 'retention.runs'): number {
  const match = /^([1-9]\d{0,4})d$/.exec(text);
  const days = match === null ? Number.NaN : Number(match[1]);
  if (!(days >= 1 && days <= 36_500)) throw new KeelError('config-invalid', `${where} must be a number of days such as "180d" (1d to 36500d), got ${JSON.stringify(text)}`);
  return days;
}

export interface RetentionPlan {
  policy: string;
  cutoff: string;
  runs: RetainedRunHead[];
}

/** The ended runs whose last event is older than the period; never retention or redaction records. */
export async function planRetention(store: StoreV1, policy: string, now: Date = new Date()): Promise<RetentionPlan> {
  const cutoff = new Date(now.getTime() - parseRetentionPeriod(policy) * dayMs).toISOString();
  const runs: RetainedRunHead[] = [];
  let after: Pick<RunRecordV1, 'createdAt' | 'id'> | undefined;
  for (;;) {
    const page = await store.listRuns({ statuses: ['ok', 'degraded', 'escalated', 'failed'], limit: 500, ...(after === undefined ? {} : { after }) });
    for (const run of page) {
      if (run.updatedAt >= cutoff || run.task === retentionTaskName || run.task === redactionTaskName) continue;
      runs.push({ runId: run.id, task: run.task, status: run.status, lastSeq: run.lastSeq, lastHash: run.lastHash, updatedAt: run.updatedAt });
    }
    const last = page.at(-1);
    if (page.length < 500 || last === undefined) break;
    after = { createdAt: last.createdAt, id: last.id };
  }
  // Oldest first: a job cut short has deleted the oldest.
  runs.sort((left, right) => (left.updatedAt === right.updatedAt ? left.runId.localeCompare(right.runId) : left.updatedAt.localeCompare(right.updatedAt)));
  return { policy, cutoff, runs };
}

interface RetentionInput {
  [key: string]: JsonValue;
  policy: string;
  cutoff: string;
  runs: RetainedRunHead[];
}

function retentionTask(store: StoreV1, signingKey: SigningKey | undefined): TaskDefinition<RetentionInput, JsonValue> {
  const retention = store.retention;
  if (retention === undefined) throw new KeelError('config-invalid', `the store at ${store.location} cannot delete runs`);
  return {
    name: retentionTaskName,
    version: '1',
    async run(context, input) {
      const record: RetentionRecord = signRetentionRecord({ policy: input.policy, cutoff: input.cutoff, decidedAt: new Date().toISOString(), by: context.principal, runs: input.runs }, signingKey);
      // Not idempotent: the record is durable before the first run is deleted.
      return context.step(
        retentionStepName,
        async () => {
          const deleted = await retention.deleteEndedRuns(input.runs.map((run) => ({ runId: run.runId, lastSeq: run.lastSeq })));
          return { deleted: deleted.length, kept: input.runs.filter((run) => !deleted.includes(run.runId)).map((run) => run.runId) };
        },
        { idempotent: false, input: record as unknown as JsonValue },
      );
    },
  };
}

/** The audit signing key, when one is configured (config `audit.signingKeyFile`, else KEEL_AUDIT_SIGNING_KEY_FILE). */
export function retentionSigningKey(signingKeyFile: string | undefined, environment: Record<string, string | undefined>): SigningKey | undefined {
  const file = signingKeyFile ?? (environment.KEEL_AUDIT_SIGNING_KEY_FILE === '' ? undefined : environment.KEEL_AUDIT_SIGNING_KEY_FILE);
  return file === undefined ? undefined : loadSigningKey(file);
}

export interface RetentionOutcome {
  policy: string;
  cutoff: string;
  /** Runs past the period (with --dry-run: would be deleted). */
  due: number;
  deleted: number;
  /** The runs journaling each batch's retention record. */
  retentionRuns: string[];
}

/**
 * Applies the policy once. `start` runs the retention task in a Keel bound to the same store (so
 * the record is anchored at its end like any run); with `dryRun`, nothing is written.
 */
export async function applyRetention(options: {
  store: StoreV1;
  policy: string;
  signingKey: SigningKey | undefined;
  dryRun?: boolean;
  now?: Date;
  start: (task: TaskDefinition<RetentionInput, JsonValue>, input: RetentionInput) => Promise<{ runId: string; status: string; output?: JsonValue; reason?: string }>;
}): Promise<RetentionOutcome> {
  const plan = await planRetention(options.store, options.policy, options.now);
  const outcome: RetentionOutcome = { policy: plan.policy, cutoff: plan.cutoff, due: plan.runs.length, deleted: 0, retentionRuns: [] };
  if (options.dryRun === true || plan.runs.length === 0) return outcome;
  const task = retentionTask(options.store, options.signingKey);
  for (let start = 0; start < plan.runs.length; start += batchSize) {
    const result = await options.start(task, { policy: plan.policy, cutoff: plan.cutoff, runs: plan.runs.slice(start, start + batchSize) });
    if (result.status !== 'ok') throw new KeelError('internal', `retention run ${result.runId} ended ${result.status}: ${result.reason ?? 'no reason given'}`);
    outcome.retentionRuns.push(result.runId);
    outcome.deleted += Number((result.output as { deleted?: number } | undefined)?.deleted ?? 0);
  }
  return outcome;
}
