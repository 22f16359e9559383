/**
 * Retention records: what lets a run be deleted without `keel audit verify` calling it tampering.
 * A retention job (src/redaction/apply-retention.ts) journals, before it deletes anything, one
 * record naming every run it deletes by its head (last seq and hash), signed with the audit signing
 * key; the record lives in a run of its own (task `run-retention`), anchored like any run. The
 * verifier accepts an anchored run's absence only when a record whose chain verifies names it at
 * the anchored head, and, given the public key, only when the record's signature verifies: deleting
 * a run, and forging a record for it, takes the signing key.
 */
import type { JsonValue, StoreV1 } from '../spec/index.ts';
import { canonicalJson } from '../journal/hash.ts';
import type { SigningKey, VerifyingKey } from './tree-head.ts';

// Not an ES import: node:crypto's namespace loads Web Crypto into every CLI start that hashes
// (docs/architecture.md, CLI start-up).
const { sign, verify } = process.getBuiltinModule('node:crypto');

export const retentionTaskName = 'run-retention';
export const retentionStepName = 'retention-apply';

export interface RetainedRunHead {
  [key: string]: JsonValue;
  runId: string;
  task: string;
  status: string;
  lastSeq: number;
  lastHash: string;
  updatedAt: string;
}

export interface RetentionRecord {
  /** The retention setting applied, e.g. `180d`. */
  policy: string;
  /** Runs that ended before this time were deleted. */
  cutoff: string;
  decidedAt: string;
  by: string;
  runs: RetainedRunHead[];
  keyId: string | null;
  /** Ed25519 over retentionRecordMessage, base64; null without a signing key. */
  signature: string | null;
}

export function retentionRecordMessage(record: Omit<RetentionRecord, 'signature'> & { signature?: string | null }): Buffer {
  const { signature: _signature, ...signed } = record;
  return Buffer.from(`keel-retention-record/v1\n${canonicalJson(signed)}`, 'utf8');
}

export function signRetentionRecord(record: Omit<RetentionRecord, 'signature' | 'keyId'>, key: SigningKey | undefined): RetentionRecord {
  const unsigned = { ...record, keyId: key?.keyId ?? null };
  return { ...unsigned, signature: key === undefined ? null : sign(null, retentionRecordMessage(unsigned), key.privateKey).toString('base64') };
}

export interface RetentionRecords {
  /** Deleted runs by id: the head the record named, and the retention run that named it. */
  covered: Map<string, { lastSeq: number; lastHash: string; retentionRun: string }>;
  /** Records that cannot be trusted: their own chain broken, unsigned or signed by another key. */
  problems: { runId: string; problem: string }[];
}

/**
 * The journal's reader is loaded when a retention run is found: most stores have none, and
 * `keel audit verify` starts faster without it (docs/architecture.md, CLI start-up).
 */
async function loadRetentionRun(store: StoreV1, runId: string) {
  const { loadRun } = await import('../journal/read-run.ts');
  return loadRun(store, runId);
}

/** Every retention record in the store, checked; a record that fails a check covers nothing. */
export async function readRetentionRecords(store: StoreV1, key: VerifyingKey | undefined): Promise<RetentionRecords> {
  const covered: RetentionRecords['covered'] = new Map();
  const problems: RetentionRecords['problems'] = [];
  let after: { createdAt: string; id: string } | undefined;
  for (;;) {
    const page = await store.listRuns({ task: retentionTaskName, limit: 500, ...(after === undefined ? {} : { after }) });
    for (const run of page) {
      let events;
      try {
        events = (await loadRetentionRun(store, run.id)).events;
      } catch (error) {
        problems.push({ runId: run.id, problem: `retention record run ${run.id} does not verify: ${error instanceof Error ? error.message : String(error)}` });
        continue;
      }
      for (const event of events) {
        if (event.type !== 'step-start' || event.data.name !== retentionStepName) continue;
        const record = event.data.input as RetentionRecord | undefined;
        if (record === undefined || !Array.isArray(record.runs)) continue;
        if (key !== undefined) {
          const signed = record.signature !== null && record.keyId === key.keyId && verify(null, retentionRecordMessage(record), key.publicKey, Buffer.from(record.signature, 'base64'));
          if (!signed) {
            problems.push({ runId: run.id, problem: `retention record in run ${run.id} is ${record.signature === null ? 'unsigned' : 'not signed by the given key'}: the runs it names count as deleted without a record` });
            continue;
          }
        }
        for (const head of record.runs) covered.set(head.runId, { lastSeq: head.lastSeq, lastHash: head.lastHash, retentionRun: run.id });
      }
    }
    const last = page.at(-1);
    if (page.length < 500 || last === undefined) break;
    after = { createdAt: last.createdAt, id: last.id };
  }
  return { covered, problems };
}
