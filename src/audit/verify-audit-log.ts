/**
 * Checks a store's journals against its audit log. The hash chains (src/journal/verify.ts) show
 * each run is internally consistent; this shows it is still what was anchored: every leaf's run
 * exists and still has the anchored event with the anchored hash, the leaves reproduce every tree
 * head's root, consecutive heads are consistent (RFC 9162 proofs), and, given the public key, every
 * head was signed by the holder of the private key. Reads only.
 */
import type { AuditLeafV1, AuditRunHeadV1, AuditTreeHeadV1, StoreV1 } from '../spec/index.ts';
import { auditLeafHash } from './audit-leaf.ts';
import type { RetentionRecords } from './retention-records.ts';
import { readRetentionRecords } from './retention-records.ts';
import type { Hash } from './merkle-tree.ts';
import { MerkleTree, appendLeaf, emptyRange, verifyConsistency } from './merkle-tree.ts';
import type { VerifyingKey } from './tree-head.ts';
import { verifyTreeHeadSignature } from './tree-head.ts';

export interface AuditFailure {
  /** The run concerned, when the problem is one run's. */
  runId?: string;
  problem: string;
}

export interface AuditVerdict {
  /** False when the store keeps no audit log (an adapter without StoreV1.auditLog). */
  kept: boolean;
  leaves: number;
  treeHeads: number;
  latest: AuditTreeHeadV1 | undefined;
  /** Whether tree head signatures were checked (a public key was given). */
  signaturesChecked: boolean;
  failures: AuditFailure[];
  /** Runs with events after their last anchor (or never anchored): not proof of tampering. */
  unanchored: AuditRunHeadV1[];
}

export async function verifyAuditLog(store: StoreV1, options: { verifyingKey?: VerifyingKey } = {}): Promise<AuditVerdict> {
  const log = store.auditLog;
  const signaturesChecked = options.verifyingKey !== undefined;
  if (log === undefined) return { kept: false, leaves: 0, treeHeads: 0, latest: undefined, signaturesChecked, failures: [], unanchored: [] };
  const leaves = await log.readAuditLeaves();
  const heads = await log.listTreeHeads();
  const failures: AuditFailure[] = [];
  const leafHashes = leaves.map((leaf) => auditLeafHash(leaf));
  const tree = new MerkleTree(leafHashes);

  leaves.forEach((leaf, position) => {
    if (leaf.index !== position) failures.push({ problem: `audit leaf ${position} is missing (the next stored leaf is ${leaf.index}): leaves were deleted` });
  });
  failures.push(...checkTreeHeads(heads, tree, leafHashes, options.verifyingKey));
  const latest = heads.at(-1);
  if (latest !== undefined && leaves.length > latest.treeSize) failures.push({ problem: `${leaves.length - latest.treeSize} audit leaves after the latest tree head (size ${latest.treeSize}) are covered by no signed head` });
  if (latest === undefined && leaves.length > 0) failures.push({ problem: `${leaves.length} audit leaves and no tree head: the signed heads were deleted` });
  // Runs deleted by a retention job are absent by design when a (signed) retention record names them.
  const retention = await readRetentionRecords(store, options.verifyingKey);
  failures.push(...(await checkAnchoredRuns(store, leaves, retention)));
  return { kept: true, leaves: leaves.length, treeHeads: heads.length, latest, signaturesChecked, failures, unanchored: await log.listUnanchoredRuns() };
}

function checkTreeHeads(heads: readonly AuditTreeHeadV1[], tree: MerkleTree, leafHashes: readonly Hash[], key: VerifyingKey | undefined): AuditFailure[] {
  const failures: AuditFailure[] = [];
  let range = emptyRange;
  let previous: { head: AuditTreeHeadV1; rootMatches: boolean } | undefined;
  for (const head of heads) {
    const name = `tree head ${head.treeSize} (issued ${head.issuedAt})`;
    if (key !== undefined && !verifyTreeHeadSignature(head, key)) {
      const why = head.keyId === key.keyId ? 'its signature does not verify' : `it names key ${head.keyId}, not the given key ${key.keyId}`;
      failures.push({ problem: `${name}: ${why}: it was not issued by the holder of the signing key` });
    }
    if (head.treeSize > tree.size) {
      failures.push({ problem: `${name}: only ${tree.size} audit leaves exist: leaves were deleted` });
      previous = { head, rootMatches: false };
      continue;
    }
    const rootMatches = tree.root(head.treeSize).toString('hex') === head.rootHash;
    if (!rootMatches) failures.push({ problem: `${name}: the audit leaves do not reproduce its root: a leaf was changed, added or removed` });
    while (range.size < head.treeSize) range = appendLeaf(range, leafHashes[range.size] as Hash);
    const edge = range.hashes.map((hash) => hash.toString('hex'));
    if (edge.length !== head.compactRange.length || edge.some((hash, index) => hash !== head.compactRange[index])) {
      failures.push({ problem: `${name}: its stored right edge (compact range) does not match the leaves` });
    }
    if (previous !== undefined && previous.rootMatches && rootMatches) {
      const from = previous.head;
      const proof = tree.consistencyProof(from.treeSize, head.treeSize);
      if (!verifyConsistency(from.treeSize, head.treeSize, Buffer.from(from.rootHash, 'hex'), Buffer.from(head.rootHash, 'hex'), proof)) {
        failures.push({ problem: `${name} is not consistent with tree head ${from.treeSize}: the log was rewritten between them` });
      }
    }
    if (previous !== undefined && head.treeSize <= previous.head.treeSize) failures.push({ problem: `${name} does not extend tree head ${previous.head.treeSize}` });
    previous = { head, rootMatches };
  }
  return failures;
}

/** Each anchored run must still hold the anchored event, with the anchored hash. One failure per run. */
async function checkAnchoredRuns(store: StoreV1, leaves: readonly AuditLeafV1[], retention: RetentionRecords): Promise<AuditFailure[]> {
  const byRun = new Map<string, AuditLeafV1[]>();
  for (const leaf of leaves) {
    const runLeaves = byRun.get(leaf.runId);
    if (runLeaves === undefined) byRun.set(leaf.runId, [leaf]);
    else runLeaves.push(leaf);
  }
  const failures: AuditFailure[] = [];
  for (const [runId, runLeaves] of byRun) {
    const last = runLeaves.reduce((highest, leaf) => (leaf.seq > highest.seq ? leaf : highest));
    const run = await store.getRun(runId);
    if (run === undefined) {
      const record = retention.covered.get(runId);
      if (record !== undefined && (record.lastSeq > last.seq || (record.lastSeq === last.seq && record.lastHash === last.eventHash))) continue;
      const untrusted = retention.problems.map((problem) => problem.problem).join('; ');
      failures.push({ runId, problem: `run ${runId} was deleted after it was anchored at event ${last.seq}${record === undefined ? '' : ', and the retention record naming it names another head'}${untrusted === '' ? '' : ` (${untrusted})`}` });
      continue;
    }
    const first = Math.min(...runLeaves.map((leaf) => leaf.seq));
    const records = await store.readJournal(runId, first - 1);
    const events = new Map(records.map((record) => [record.seq, record.hash]));
    const bySeq = [...runLeaves].sort((left, right) => left.seq - right.seq);
    const missing = bySeq.find((leaf) => !events.has(leaf.seq));
    const changed = bySeq.find((leaf) => events.has(leaf.seq) && events.get(leaf.seq) !== leaf.eventHash);
    if (missing !== undefined) {
      // Only on failure: where the journal now ends, read whole.
      const lastSeq = events.size === 0 ? ((await store.readJournal(runId)).at(-1)?.seq ?? 0) : Math.max(...events.keys());
      failures.push({
        runId,
        problem:
          lastSeq > missing.seq
            ? `run ${runId} lost event ${missing.seq} after it was anchored: the event was removed`
            : `run ${runId} was truncated after it was anchored at event ${last.seq}: its journal now ${lastSeq === 0 ? 'has no events' : `ends at event ${lastSeq}`}`,
      });
    } else if (changed !== undefined) {
      failures.push({ runId, problem: `run ${runId} was rewritten after it was anchored at event ${changed.seq}: that event's hash is not the anchored one` });
    } else {
      // Keel appends nothing after a run's end: events past an anchored end were added by hand.
      const endSeq = records.find((record) => record.seq === last.seq && record.type === 'run-end')?.seq;
      const lastSeq = records.at(-1)?.seq ?? 0;
      if (endSeq !== undefined && lastSeq > endSeq) {
        failures.push({ runId, problem: `run ${runId} had ended at event ${endSeq} when it was anchored, but its journal now goes on to event ${lastSeq}: events were added after its end` });
      }
    }
  }
  return failures;
}
