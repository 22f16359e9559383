/**
 * The conformance suite of a store's audit log (src/spec/audit-log-store-v1.ts). `first` and
 * `second` are two handles on one database (two connections, as two processes would hold), so
 * the suite can race appends against each other. Stores never interpret hashes: stand-ins do.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { AuditLeafV1, AuditLogStoreV1, AuditTreeHeadV1, JournalRecordV1, StoreV1 } from '../../spec/index.ts';

export interface AuditLogStoresUnderTest {
  first: StoreV1;
  second: StoreV1;
  dispose: () => Promise<void>;
}

export type AuditLogStoresFactory = () => Promise<AuditLogStoresUnderTest>;

const stand = (text: string): string => createHash('sha256').update(text).digest('hex');

function record(runId: string, seq: number): JournalRecordV1 {
  return { runId, seq, time: new Date(Date.UTC(2030, 0, 1, 0, 0, seq)).toISOString(), type: seq === 1 ? 'run-start' : 'run-detail', schemaVersion: 1, prevHash: seq === 1 ? '0'.repeat(64) : stand(`${runId}:${seq - 1}`), hash: stand(`${runId}:${seq}`), data: {} };
}

async function createRun(store: StoreV1, events: number): Promise<string> {
  const runId = `run-${randomUUID()}`;
  await store.createRun({ run: { id: runId, task: 'audit', taskVersion: '1', principal: 'user:ada', tenant: 'acme', status: 'running' }, first: record(runId, 1) });
  if (events > 1) await store.append({ runId, records: Array.from({ length: events - 1 }, (_, offset) => record(runId, offset + 2)), summary: {} });
  return runId;
}

function leaf(index: number, runId: string, seq: number): AuditLeafV1 {
  return { index, runId, seq, eventHash: stand(`${runId}:${seq}`), anchoredAt: '2030-01-01T00:00:00.000Z' };
}

function head(treeSize: number, tag = ''): AuditTreeHeadV1 {
  return { treeSize, rootHash: stand(`root:${treeSize}${tag}`), issuedAt: `2030-01-01T00:00:${String(treeSize % 60).padStart(2, '0')}.000Z`, keyId: 'k'.repeat(32), signature: Buffer.from(`signature ${treeSize}${tag}`).toString('base64'), compactRange: [stand(`edge:${treeSize}`)] };
}

function logOf(store: StoreV1): AuditLogStoreV1 {
  assert.ok(store.auditLog !== undefined, 'the store keeps an audit log');
  return store.auditLog;
}

async function withStores(factory: AuditLogStoresFactory, work: (stores: AuditLogStoresUnderTest) => Promise<void>): Promise<void> {
  const stores = await factory();
  try {
    await work(stores);
  } finally {
    await stores.dispose();
  }
}

export function runAuditLogConformance(label: string, factory: AuditLogStoresFactory | { skip: string }): void {
  describe(`audit log conformance: ${label}`, { skip: 'skip' in factory ? factory.skip : false }, () => {
    if ('skip' in factory) return;

    void test('an empty log has no head and no leaves, and every run is unanchored at its head', async () => {
      await withStores(factory, async ({ first }) => {
        const log = logOf(first);
        const older = await createRun(first, 3);
        const newer = await createRun(first, 1);
        assert.equal(await log.latestTreeHead(), undefined);
        assert.deepEqual(await log.listTreeHeads(), []);
        assert.deepEqual(await log.readAuditLeaves(), []);
        // Both runs may be created within one millisecond: compare without their order.
        const byId = (left: { runId: string }, right: { runId: string }) => left.runId.localeCompare(right.runId);
        assert.deepEqual(
          (await log.listUnanchoredRuns()).sort(byId),
          [
            { runId: older, seq: 3, hash: stand(`${older}:3`) },
            { runId: newer, seq: 1, hash: stand(`${newer}:1`) },
          ].sort(byId),
        );
        assert.equal((await log.listUnanchoredRuns({ limit: 1 })).length, 1);
        assert.deepEqual(await log.listUnanchoredRuns({ runIds: [newer, 'run-nobody'] }), [{ runId: newer, seq: 1, hash: stand(`${newer}:1`) }]);
      });
    });

    void test('appends round-trip; a run is anchored until its head moves past its latest leaf', async () => {
      await withStores(factory, async ({ first, second }) => {
        const log = logOf(first);
        const runA = await createRun(first, 2);
        const runB = await createRun(first, 4);
        assert.equal(await log.appendAuditEntries({ previousTreeSize: 0, leaves: [leaf(0, runA, 2), leaf(1, runB, 4)], treeHead: head(2) }), true);
        assert.deepEqual(await log.listUnanchoredRuns(), []);
        await first.append({ runId: runA, records: [record(runA, 3)], summary: {} });
        assert.deepEqual(await log.listUnanchoredRuns(), [{ runId: runA, seq: 3, hash: stand(`${runA}:3`) }]);
        assert.equal(await log.appendAuditEntries({ previousTreeSize: 2, leaves: [leaf(2, runA, 3)], treeHead: head(3) }), true);
        assert.deepEqual(await log.listUnanchoredRuns(), []);
        // The other handle sees everything, in order.
        const other = logOf(second);
        assert.deepEqual(await other.readAuditLeaves(), [leaf(0, runA, 2), leaf(1, runB, 4), leaf(2, runA, 3)]);
        assert.deepEqual(await other.readAuditLeaves(1, 1), [leaf(1, runB, 4)]);
        assert.deepEqual(await other.readAuditLeaves(2), [leaf(2, runA, 3)]);
        assert.deepEqual(await other.listTreeHeads(), [head(2), head(3)]);
        assert.deepEqual(await other.latestTreeHead(), head(3));
        assert.deepEqual(await other.latestLeafOfRun(runA), leaf(2, runA, 3));
        assert.deepEqual(await other.latestLeafOfRun(runB), leaf(1, runB, 4));
        assert.equal(await other.latestLeafOfRun('run-nobody'), undefined);
      });
    });

    void test('an append built on a stale size is refused and writes nothing', async () => {
      await withStores(factory, async ({ first }) => {
        const log = logOf(first);
        const runId = await createRun(first, 1);
        assert.equal(await log.appendAuditEntries({ previousTreeSize: 0, leaves: [leaf(0, runId, 1)], treeHead: head(1) }), true);
        assert.equal(await log.appendAuditEntries({ previousTreeSize: 0, leaves: [leaf(0, runId, 1)], treeHead: head(1, 'stale') }), false);
        assert.equal(await log.appendAuditEntries({ previousTreeSize: 5, leaves: [leaf(5, runId, 1)], treeHead: head(6) }), false);
        assert.deepEqual(await log.listTreeHeads(), [head(1)]);
        assert.deepEqual(await log.readAuditLeaves(), [leaf(0, runId, 1)]);
      });
    });

    void test('two handles racing to extend the same tree: exactly one wins each round, and the log stays contiguous', async () => {
      await withStores(factory, async ({ first, second }) => {
        const runIds = await Promise.all(Array.from({ length: 4 }, () => createRun(first, 1)));
        let size = 0;
        for (let round = 0; round < 6; round += 1) {
          const attempts = [first, second, first, second].map((store, which) =>
            logOf(store).appendAuditEntries({ previousTreeSize: size, leaves: [leaf(size, runIds[which] as string, 1), leaf(size + 1, runIds[which] as string, 1)], treeHead: head(size + 2, `-${which}`) }),
          );
          const outcomes = await Promise.all(attempts);
          assert.equal(outcomes.filter(Boolean).length, 1, `round ${round}: one append wins`);
          size += 2;
        }
        const leaves = await logOf(second).readAuditLeaves();
        assert.deepEqual(
          leaves.map((stored) => stored.index),
          Array.from({ length: size }, (_, index) => index),
        );
        assert.deepEqual(
          (await logOf(first).listTreeHeads()).map((stored) => stored.treeSize),
          [2, 4, 6, 8, 10, 12],
        );
      });
    });
  });
}
