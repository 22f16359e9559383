import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { defineTask, Engine } from '../engine/index.ts';
import { PostgresStore, SqliteStore } from '../store/index.ts';
import { dropSchema, openTestPostgres, uniqueSchemaName, withClient } from '../store/testing/index.ts';
import { AuditLog, auditLeafHash, generateSigningKeyPair, keyIdOf, MerkleTree, verifyAuditLog } from './index.ts';
import type { SigningKey, VerifyingKey } from './index.ts';

const folder = mkdtempSync(join(tmpdir(), 'keel-audit-log-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const pair = generateSigningKeyPair();
const signingKey: SigningKey = { privateKey: createPrivateKey(pair.privateKeyPem), publicKey: createPublicKey(pair.publicKeyPem), keyId: pair.keyId };
const verifyingKey: VerifyingKey = { publicKey: signingKey.publicKey, keyId: keyIdOf(signingKey.publicKey) };
const who = { principal: 'user:ada', tenant: 'acme' };

let databases = 0;
function openStores(count: number): { path: string; stores: SqliteStore[]; close: () => Promise<void> } {
  databases += 1;
  const path = join(folder, `keel-${databases}.db`);
  const stores = Array.from({ length: count }, () => SqliteStore.open({ path, durability: 'normal' }));
  return { path, stores, close: async () => void (await Promise.all(stores.map((store) => store.close()))) };
}

// Runs as many steps as its input asks, so runs have heads to anchor and move.
const steps = defineTask({
  name: 'steps',
  version: '1',
  run: async (context, input: { count: number }) => {
    let total = 0;
    for (let index = 0; index < input.count; index += 1) total += await context.step(`step-${index}`, () => index, { idempotent: true });
    return total;
  },
});

function logOf(store: SqliteStore): AuditLog {
  return new AuditLog({ log: store.auditLog, signingKey });
}

test('anchorings extend the tree from the stored right edge: every head has the from-scratch root, and the log verifies', async () => {
  const { stores, close } = openStores(1);
  const [store] = stores as [SqliteStore];
  try {
    const engine = new Engine({ store, tasks: [steps], workerRegistry: false });
    const log = logOf(store);
    for (let round = 1; round <= 4; round += 1) {
      for (let run = 0; run < round; run += 1) await engine.start('steps', { count: run + 1 }, who);
      const outcome = await log.anchor();
      assert.equal(outcome.anchored, round);
    }
    assert.deepEqual(await log.anchor(), { anchored: 0, treeHead: await store.auditLog.latestTreeHead() }, 'nothing moved: no new head');
    const leaves = await store.auditLog.readAuditLeaves();
    const tree = new MerkleTree(leaves.map((leaf) => auditLeafHash(leaf)));
    const heads = await store.auditLog.listTreeHeads();
    assert.deepEqual(
      heads.map((head) => head.treeSize),
      [1, 3, 6, 10],
    );
    for (const head of heads) assert.equal(head.rootHash, tree.root(head.treeSize).toString('hex'));
    const verdict = await verifyAuditLog(store, { verifyingKey });
    assert.deepEqual(verdict.failures, []);
    assert.deepEqual(verdict.unanchored, []);
    assert.equal(verdict.signaturesChecked, true);
  } finally {
    await close();
  }
});

test('anchor requests made while one is queued join it: one tree head for all of them', async () => {
  const { stores, close } = openStores(1);
  const [store] = stores as [SqliteStore];
  try {
    const engine = new Engine({ store, tasks: [steps], workerRegistry: false });
    const runIds = [];
    for (let run = 0; run < 3; run += 1) runIds.push((await engine.start('steps', { count: 1 }, who)).runId);
    const log = logOf(store);
    const outcomes = await Promise.all(runIds.map((runId) => log.anchor([runId])));
    assert.deepEqual(
      outcomes.map((outcome) => outcome.anchored),
      [3, 3, 3],
    );
    assert.equal((await store.auditLog.listTreeHeads()).length, 1);
  } finally {
    await close();
  }
});

test('two processes anchoring at once (two connections to one file) both land, one after the other, and the log verifies', async () => {
  const { stores, close } = openStores(2);
  const [first, second] = stores as [SqliteStore, SqliteStore];
  try {
    const engine = new Engine({ store: first, tasks: [steps], workerRegistry: false });
    const runIds = [];
    for (let run = 0; run < 6; run += 1) runIds.push((await engine.start('steps', { count: 2 }, who)).runId);
    const [one, two] = await Promise.all([logOf(first).anchor(runIds.slice(0, 3)), logOf(second).anchor(runIds.slice(3))]);
    assert.equal(one.anchored + two.anchored, 6);
    assert.equal((await first.auditLog.latestTreeHead())?.treeSize, 6);
    assert.deepEqual((await verifyAuditLog(second, { verifyingKey })).failures, []);
  } finally {
    await close();
  }
});

test('a run ends ok when anchoring at its end fails; verify then counts it unanchored, and names the altered head', async () => {
  const { path, stores, close } = openStores(1);
  const [store] = stores as [SqliteStore];
  try {
    const log = logOf(store);
    const engine = new Engine({ store, tasks: [steps], workerRegistry: false, afterRun: (runId) => log.anchor([runId]) });
    const anchored = await engine.start('steps', { count: 1 }, who);
    assert.equal((await store.auditLog.latestLeafOfRun(anchored.runId))?.seq !== undefined, true, 'anchored at its end');
    // Someone altered the stored right edge: extending it would sign a tree nobody can reproduce.
    const database = new DatabaseSync(path);
    database.prepare(`UPDATE audit_tree_heads SET compact_range = ?`).run(JSON.stringify(['00'.repeat(32)]));
    database.close();
    const outcome = await engine.start('steps', { count: 2 }, who);
    assert.equal(outcome.status, 'ok');
    assert.equal(await store.auditLog.latestLeafOfRun(outcome.runId), undefined);
    await assert.rejects(log.anchor(), { code: 'journal-invalid' });
    const verdict = await verifyAuditLog(store, { verifyingKey });
    assert.deepEqual(
      verdict.unanchored.map((run) => run.runId),
      [outcome.runId],
    );
    assert.deepEqual(
      verdict.failures.map((failure) => failure.problem.replace(/\(issued [^)]+\)/, '(issued …)')),
      ['tree head 1 (issued …): its stored right edge (compact range) does not match the leaves'],
    );
  } finally {
    await close();
  }
});

test('on PostgreSQL: two processes anchoring at once both land, the log verifies, and a rewritten run is caught', async (context) => {
  const server = await openTestPostgres();
  if ('skipReason' in server) {
    context.skip(server.skipReason);
    return;
  }
  const schema = uniqueSchemaName('keel_audit_log');
  const first = await PostgresStore.open({ url: server.url, schema, poolSize: 4 });
  const second = await PostgresStore.open({ url: server.url, schema, poolSize: 4 });
  try {
    const engine = new Engine({ store: first, tasks: [steps], workerRegistry: false });
    const runIds = [];
    for (let run = 0; run < 6; run += 1) runIds.push((await engine.start('steps', { count: 2 }, who)).runId);
    const logs = [first, second].map((store) => new AuditLog({ log: store.auditLog, signingKey }));
    const outcomes = await Promise.all(runIds.map((runId, index) => (logs[index % 2] as AuditLog).anchor([runId])));
    assert.equal((await first.auditLog.latestTreeHead())?.treeSize, 6);
    assert.ok(outcomes.every((outcome) => outcome.treeHead !== undefined));
    assert.deepEqual((await verifyAuditLog(second, { verifyingKey })).failures, []);
    // Someone edits the anchored last event's hash in place (as a rehash would leave it).
    const victim = runIds[2] as string;
    const lastSeq = (await first.getRun(victim))?.lastSeq;
    await withClient(server.url, (client) => client.query(`UPDATE "${schema}".journal SET hash = repeat('a', 64) WHERE run_id = $1 AND seq = $2`, [victim, lastSeq]));
    const problems = (await verifyAuditLog(first, { verifyingKey })).failures.map((failure) => failure.problem);
    assert.deepEqual(problems, [`run ${victim} was rewritten after it was anchored at event ${lastSeq}: that event's hash is not the anchored one`]);
  } finally {
    await Promise.all([first.close(), second.close()]);
    await dropSchema(server.url, schema);
  }
});
