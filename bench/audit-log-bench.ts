/**
 * The audit log's costs on SQLite (`durability: full`, as a deployment runs): one run-end
 * anchoring (one leaf, one signed tree head) into a tree that already holds many leaves, and
 * verifying the whole log (leaves, roots, consistency, signatures, each anchored run's event).
 * Run alone: node bench/audit-log-bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog, generateSigningKeyPair, verifyAuditLog } from '../src/audit/index.ts';
import type { SigningKey } from '../src/audit/index.ts';
import { SqliteStore } from '../src/store/index.ts';
import type { Measure } from './journal-bench.ts';
import { fillStore } from './journal-bench.ts';

export async function benchAuditLog(shape = { runs: 10_000, eventsPerRun: 3 }, timedAnchorings = 500): Promise<Measure[]> {
  const folder = mkdtempSync(join(tmpdir(), 'keel-bench-audit-log-'));
  try {
    const filling = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
    const runIds = await fillStore(filling, shape);
    await filling.close();
    const store = SqliteStore.open({ path: join(folder, 'keel.db') });
    const pair = generateSigningKeyPair();
    const signingKey: SigningKey = { privateKey: createPrivateKey(pair.privateKeyPem), publicKey: createPublicKey(pair.publicKeyPem), keyId: pair.keyId };
    const log = new AuditLog({ log: store.auditLog, signingKey });
    // Every run but the timed ones anchored in one batch: the tree the timed appends extend.
    const untimed = runIds.slice(0, runIds.length - timedAnchorings);
    for (let start = 0; start < untimed.length; start += 5_000) await log.anchor(untimed.slice(start, start + 5_000));
    const samples: number[] = [];
    for (const runId of runIds.slice(runIds.length - timedAnchorings)) {
      const began = performance.now();
      await log.anchor([runId]);
      samples.push(performance.now() - began);
    }
    samples.sort((left, right) => left - right);
    const median = samples[Math.floor(samples.length / 2)] as number;
    const p99 = samples[Math.floor(samples.length * 0.99)] as number;
    const scanBegan = performance.now();
    await log.anchor();
    const scanMs = performance.now() - scanBegan;
    const began = performance.now();
    const verdict = await verifyAuditLog(store, { verifyingKey: { publicKey: signingKey.publicKey, keyId: signingKey.keyId } });
    const verifySeconds = (performance.now() - began) / 1000;
    if (verdict.failures.length > 0 || verdict.leaves !== shape.runs) throw new Error(`the bench log does not verify: ${JSON.stringify(verdict.failures.slice(0, 3))}`);
    await store.close();
    const anchorDetail = `one run-end anchoring (read head, one leaf, Ed25519-signed head, one fsynced SQLite transaction) into a tree of ~${(shape.runs - timedAnchorings).toLocaleString('en-US')} leaves; median of ${timedAnchorings}, p99 ${p99.toFixed(2)} ms`;
    const verifyDetail = `verifyAuditLog over ${shape.runs.toLocaleString('en-US')} leaves and ${verdict.treeHeads} signed heads (roots, right edges, consistency proofs, signatures, each run's anchored event)`;
    process.stdout.write(`  audit anchoring: ${median.toFixed(2)} ms  (${anchorDetail})\n`);
    const scanDetail = `keel worker's scheduled anchoring with nothing to anchor: finding the runs whose head moved among ${shape.runs.toLocaleString('en-US')} runs`;
    process.stdout.write(`  audit scheduled scan: ${scanMs.toFixed(2)} ms  (${scanDetail})\n`);
    process.stdout.write(`  audit log verify: ${Math.round(shape.runs / verifySeconds).toLocaleString('en-US')} leaves/s  (${verifyDetail}; ${verifySeconds.toFixed(2)} s)\n`);
    return [
      { name: 'audit anchoring: one run-end anchoring', value: Number(median.toFixed(2)), unit: 'ms', detail: anchorDetail },
      { name: 'audit scheduled scan: nothing to anchor', value: Number(scanMs.toFixed(2)), unit: 'ms', detail: scanDetail },
      { name: 'audit log verify: leaves checked per second', value: Math.round(shape.runs / verifySeconds), unit: 'leaves/s', detail: verifyDetail },
    ];
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

if (import.meta.main) await benchAuditLog();
