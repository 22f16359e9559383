/**
 * A leaf of the audit log is a run checkpoint: (run id, seq, event hash) of the run's head when it
 * was anchored. Each event's hash covers its predecessor's, so one leaf anchors the run's whole
 * prefix up to that event. The leaf input is a version line and the canonical JSON of the three,
 * so its bytes are the same on every machine.
 */
import { canonicalJson } from '../journal/hash.ts';
import type { AuditLeafV1 } from '../spec/index.ts';
import type { Hash } from './merkle-tree.ts';
import { leafHash } from './merkle-tree.ts';

export function auditLeafInput(leaf: Pick<AuditLeafV1, 'runId' | 'seq' | 'eventHash'>): Buffer {
  return Buffer.from(`keel-audit-leaf/v1\n${canonicalJson({ eventHash: leaf.eventHash, runId: leaf.runId, seq: leaf.seq })}`, 'utf8');
}

/** The leaf's RFC 6962 hash: SHA-256(0x00 || leaf input). */
export function auditLeafHash(leaf: Pick<AuditLeafV1, 'runId' | 'seq' | 'eventHash'>): Hash {
  return leafHash(auditLeafInput(leaf));
}
