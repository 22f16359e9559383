/**
 * An inclusion proof for a run: its latest leaf, the audit path to the root of the latest signed
 * tree head, and that head. Anyone holding the public key can check it with verifyInclusion and
 * verifyTreeHeadSignature, without the database.
 */
import { KeelError } from '../errors/index.ts';
import type { AuditLeafV1, AuditTreeHeadV1, StoreV1 } from '../spec/index.ts';
import { auditLeafHash, auditLeafInput } from './audit-leaf.ts';
import { MerkleTree, verifyInclusion } from './merkle-tree.ts';
import type { VerifyingKey } from './tree-head.ts';
import { verifyTreeHeadSignature } from './tree-head.ts';

export interface RunInclusionProof {
  runId: string;
  leaf: AuditLeafV1 & { leafInput: string; leafHash: string };
  treeHead: Omit<AuditTreeHeadV1, 'compactRange'>;
  /** Sibling hashes, leaf to root (RFC 6962 PATH), hex. */
  inclusionProof: string[];
}

export async function proveRun(store: StoreV1, runId: string): Promise<RunInclusionProof> {
  const log = store.auditLog;
  if (log === undefined) throw new KeelError('config-invalid', `the store at ${store.location} keeps no audit log`);
  const leaf = await log.latestLeafOfRun(runId);
  if (leaf === undefined) {
    const known = (await store.getRun(runId)) !== undefined;
    throw new KeelError('run-not-found', known ? `run ${runId} has not been anchored yet (anchoring needs an audit signing key; see keel audit keygen)` : `no run ${runId}`);
  }
  const head = await log.latestTreeHead();
  if (head === undefined || head.treeSize <= leaf.index) throw new KeelError('journal-invalid', `run ${runId}'s audit leaf ${leaf.index} is covered by no signed tree head; run keel audit verify`);
  const leaves = await log.readAuditLeaves(0, head.treeSize);
  const tree = new MerkleTree(leaves.map((stored) => auditLeafHash(stored)));
  if (tree.size !== head.treeSize) throw new KeelError('journal-invalid', `the audit log has ${tree.size} leaves under a tree head of ${head.treeSize}; run keel audit verify`);
  const { compactRange: _compactRange, ...treeHead } = head;
  return {
    runId,
    leaf: { ...leaf, leafInput: auditLeafInput(leaf).toString('utf8'), leafHash: auditLeafHash(leaf).toString('hex') },
    treeHead,
    inclusionProof: tree.inclusionProof(leaf.index, head.treeSize).map((hash) => hash.toString('hex')),
  };
}

/**
 * Checks a proof as `keel audit prove --json` prints it, without the database: the leaf recomputed
 * from its run id, seq and event hash is in the tree the head names, and the head is signed by
 * this key. True only if both hold.
 */
export function verifyRunInclusionProof(proof: RunInclusionProof, key: VerifyingKey): boolean {
  const { leaf, treeHead } = proof;
  const path = proof.inclusionProof.map((hash) => Buffer.from(hash, 'hex'));
  return (
    verifyInclusion(auditLeafHash(leaf), leaf.index, treeHead.treeSize, path, Buffer.from(treeHead.rootHash, 'hex')) &&
    verifyTreeHeadSignature({ ...treeHead, compactRange: [] }, key)
  );
}
