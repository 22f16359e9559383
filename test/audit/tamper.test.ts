/**
 * Tamper tests, end to end: the real `keel` (bin/keel.js) runs the demo under a config that names
 * an audit signing key, so every run is anchored in the signed Merkle log. Each test then attacks
 * a copy of that SQLite file directly with node:sqlite, as someone with write access to the
 * database (but not the key file) could, and `keel audit verify --public-key` must exit 1 with a
 * line naming the run and what was done to it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import type { AuditTreeHeadV1 } from '../../src/spec/index.ts';
import {
  appendLeaf,
  auditLeafHash,
  emptyRange,
  loadSigningKey,
  loadVerifyingKey,
  MerkleTree,
  rangeRoot,
  signTreeHead,
  verifyInclusion,
  verifyRunInclusionProof,
  verifyTreeHeadSignature,
} from '../../src/audit/index.ts';
import type { RunInclusionProof } from '../../src/audit/index.ts';
import { canonicalJson, hashRecord } from '../../src/journal/index.ts';
import type { JsonValue } from '../../src/spec/index.ts';

const launcher = join(import.meta.dirname, '..', '..', 'bin', 'keel.js');
const folder = mkdtempSync(join(tmpdir(), 'keel-tamper-'));
const original = join(folder, 'keel.db');
const publicKey = join(folder, 'keys', 'audit-public-key.pem');
after(() => rmSync(folder, { recursive: true, force: true }));

function environment(): NodeJS.ProcessEnv {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, KEEL_AUDIT_SIGNING_KEY_FILE: _key, KEEL_AUDIT_PUBLIC_KEY_FILE: _public, ...rest } = process.env;
  return { ...rest, NO_COLOR: '1', USER: 'tester' };
}

function keel(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [launcher, ...args], { cwd: folder, env: environment(), encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function verify(database: string, ...extra: string[]) {
  return keel('audit', 'verify', '--db', database, ...extra);
}

let copies = 0;
/** A fresh copy of the anchored database for one attack. */
function copyOfOriginal(): string {
  copies += 1;
  const path = join(folder, `copy-${copies}.db`);
  copyFileSync(original, path);
  if (existsSync(`${original}-wal`)) copyFileSync(`${original}-wal`, `${path}-wal`);
  return path;
}

function withDatabase<T>(path: string, work: (database: DatabaseSync) => T): T {
  const database = new DatabaseSync(path);
  try {
    return work(database);
  } finally {
    database.close();
  }
}

interface StoredEvent {
  seq: number;
  time: string;
  type: string;
  schema_version: number;
  prev_hash: string;
  hash: string;
  data: string;
}

/** The demo's longest run that ended ok: the one every attack below goes after. */
function victim(path: string): { key: number; id: string; lastSeq: number } {
  return withDatabase(path, (database) => {
    const row = database.prepare(`SELECT key, id, last_seq FROM runs WHERE status = 'ok' ORDER BY last_seq DESC LIMIT 1`).get();
    assert.ok(row !== undefined, 'the demo ended a run ok');
    return { key: Number(row.key), id: String(row.id), lastSeq: Number(row.last_seq) };
  });
}

function events(database: DatabaseSync, runKey: number): StoredEvent[] {
  return database.prepare(`SELECT seq, time, type, schema_version, prev_hash, hash, data FROM journal WHERE run_key = ? ORDER BY seq`).all(runKey) as unknown as StoredEvent[];
}

/** Rewrites a run from event 2 on and recomputes every hash with the journal's own functions: a chain that verifies. */
function rewriteAndRehash(path: string): { id: string; lastSeq: number } {
  const run = victim(path);
  withDatabase(path, (database) => {
    const stored = events(database, run.key);
    let prevHash = stored[0]?.hash ?? '';
    for (const event of stored.slice(1)) {
      const data = JSON.parse(event.data) as Record<string, JsonValue>;
      if (event.seq === 2) data.rewritten = 'by someone without the key';
      const record = { runId: run.id, seq: event.seq, time: event.time, type: event.type, schemaVersion: event.schema_version, prevHash, data };
      const hash = hashRecord(record);
      database.prepare(`UPDATE journal SET data = ?, prev_hash = ?, hash = ? WHERE run_key = ? AND seq = ?`).run(canonicalJson(data), prevHash, hash, run.key, event.seq);
      prevHash = hash;
    }
    database.prepare(`UPDATE runs SET last_hash = ? WHERE key = ?`).run(prevHash, run.key);
  });
  return run;
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

before(() => {
  const keys = keel('audit', 'keygen', '--out', 'keys');
  assert.equal(keys.code, 0, keys.stderr);
  assert.equal(keel('audit', 'keygen', '--out', 'attacker-keys').code, 0);
  writeFileSync(join(folder, 'keel.json'), JSON.stringify({ version: 1, routes: [], audit: { signingKeyFile: join('keys', 'audit-signing-key.pem') } }));
  const demo = keel('demo', '--db', original, '--config', 'keel.json');
  assert.equal(demo.code, 0, demo.stderr);
});

describe('keel audit verify against a tampered database', () => {
  test('the untouched database verifies, signatures checked, and verifying changes no byte of it', () => {
    const path = copyOfOriginal();
    const files = [path, `${path}-wal`].filter((file) => existsSync(file));
    const before = files.map(sha);
    const result = verify(path, '--public-key', publicKey);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /every hash chain is intact/);
    assert.match(result.stdout, /audit log: 5 leaves under \d+ signed tree heads \(tree size 5\); every signature checked/);
    assert.deepEqual(files.map(sha), before, 'audit verify only reads');
  });

  test('a run cut to its first 2 events, its run row fixed up to match, is caught', () => {
    const path = copyOfOriginal();
    const run = victim(path);
    withDatabase(path, (database) => {
      database.prepare(`DELETE FROM journal WHERE run_key = ? AND seq > 2`).run(run.key);
      const second = events(database, run.key)[1];
      database.prepare(`UPDATE runs SET last_seq = 2, last_hash = ? WHERE key = ?`).run(second?.hash ?? '', run.key);
    });
    const result = verify(path, '--public-key', publicKey);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, new RegExp(`^keel: audit failed: run ${run.id} was truncated after it was anchored at event ${run.lastSeq}: its journal now ends at event 2$`, 'm'));
  });

  test('a deleted run (journal rows and run row) is caught', () => {
    const path = copyOfOriginal();
    const run = victim(path);
    withDatabase(path, (database) => {
      database.prepare(`DELETE FROM journal WHERE run_key = ?`).run(run.key);
      database.prepare(`DELETE FROM runs WHERE key = ?`).run(run.key);
    });
    const result = verify(path, '--public-key', publicKey);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, new RegExp(`^keel: audit failed: run ${run.id} was deleted after it was anchored at event ${run.lastSeq}$`, 'm'));
  });

  test('two events swapped are caught', () => {
    const path = copyOfOriginal();
    const run = victim(path);
    withDatabase(path, (database) => {
      const move = database.prepare(`UPDATE journal SET seq = ? WHERE run_key = ? AND seq = ?`);
      move.run(-1, run.key, 3);
      move.run(3, run.key, 4);
      move.run(4, run.key, -1);
    });
    const result = verify(path, '--public-key', publicKey);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, new RegExp(`^keel: audit failed: run ${run.id} event 3 \\(.+\\): `, 'm'));
  });

  test("one event's data changed is caught", () => {
    const path = copyOfOriginal();
    const run = victim(path);
    withDatabase(path, (database) => {
      const second = events(database, run.key)[1];
      const data = JSON.parse(second?.data ?? '{}') as Record<string, JsonValue>;
      database.prepare(`UPDATE journal SET data = ? WHERE run_key = ? AND seq = 2`).run(canonicalJson({ ...data, changed: true }), run.key);
    });
    const result = verify(path, '--public-key', publicKey);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, new RegExp(`^keel: audit failed: run ${run.id} event 2 \\(.+\\): its content does not match its hash`, 'm'));
  });

  test('a chain rewritten with every hash recomputed passes the chain check, and is caught by its anchor', () => {
    const path = copyOfOriginal();
    const run = rewriteAndRehash(path);
    const result = verify(path, '--public-key', publicKey);
    assert.equal(result.code, 1, result.stdout);
    assert.doesNotMatch(result.stderr, /event \d+ \(/, 'every hash chain is intact');
    assert.match(result.stderr, new RegExp(`^keel: audit failed: run ${run.id} was rewritten after it was anchored at event ${run.lastSeq}: that event's hash is not the anchored one$`, 'm'));
    assert.match(result.stdout, /^1 of 5 runs do not verify$/m);
  });

  test('an event appended after the anchored end, its hash chained correctly and the run row fixed up, is caught', () => {
    const path = copyOfOriginal();
    const run = victim(path);
    withDatabase(path, (database) => {
      const last = events(database, run.key).at(-1);
      assert.equal(last?.type, 'run-end');
      const record = { runId: run.id, seq: run.lastSeq + 1, time: last.time, type: 'checkpoint', schemaVersion: last.schema_version, prevHash: last.hash, data: { note: 'added later' } };
      const hash = hashRecord(record);
      database
        .prepare(`INSERT INTO journal (run_key, seq, time, type, schema_version, prev_hash, hash, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(run.key, record.seq, record.time, record.type, record.schemaVersion, record.prevHash, hash, canonicalJson(record.data));
      database.prepare(`UPDATE runs SET last_seq = ?, last_hash = ? WHERE key = ?`).run(record.seq, hash, run.key);
    });
    const result = verify(path, '--public-key', publicKey);
    assert.equal(result.code, 1, result.stdout);
    assert.doesNotMatch(result.stderr, /event \d+ \(/, 'every hash chain is intact');
    assert.match(result.stderr, new RegExp(`^keel: audit failed: run ${run.id} had ended at event ${run.lastSeq} when it was anchored, but its journal now goes on to event ${run.lastSeq + 1}: events were added after its end$`, 'm'));
  });

  test('...and when the attacker also rewrites the leaves and re-signs every tree head with a key of their own, the signatures fail', () => {
    const path = copyOfOriginal();
    const run = rewriteAndRehash(path);
    const attacker = loadSigningKey(join(folder, 'attacker-keys', 'audit-signing-key.pem'));
    // The forger claims the real key's id: only the signature can tell.
    const realKeyId = loadVerifyingKey(publicKey).keyId;
    withDatabase(path, (database) => {
      const runKey = victim(path).key;
      for (const event of events(database, runKey)) database.prepare(`UPDATE audit_leaves SET event_hash = ? WHERE run_id = ? AND seq = ?`).run(event.hash, run.id, event.seq);
      const leaves = database.prepare(`SELECT run_id, seq, event_hash FROM audit_leaves ORDER BY leaf_index`).all();
      const hashes = leaves.map((leaf) => auditLeafHash({ runId: String(leaf.run_id), seq: Number(leaf.seq), eventHash: String(leaf.event_hash) }));
      const tree = new MerkleTree(hashes);
      for (const row of database.prepare(`SELECT tree_size, issued_at FROM audit_tree_heads ORDER BY tree_size`).all()) {
        const treeSize = Number(row.tree_size);
        let range = emptyRange;
        for (const hash of hashes.slice(0, treeSize)) range = appendLeaf(range, hash);
        assert.ok(rangeRoot(range).equals(tree.root(treeSize)));
        const unsigned = { treeSize, rootHash: tree.root(treeSize).toString('hex'), issuedAt: String(row.issued_at), keyId: realKeyId };
        database
          .prepare(`UPDATE audit_tree_heads SET root_hash = ?, key_id = ?, signature = ?, compact_range = ? WHERE tree_size = ?`)
          .run(unsigned.rootHash, realKeyId, signTreeHead(unsigned, attacker), JSON.stringify(range.hashes.map((hash) => hash.toString('hex'))), treeSize);
      }
    });
    const checked = verify(path, '--public-key', publicKey);
    assert.equal(checked.code, 1, checked.stdout);
    assert.doesNotMatch(checked.stderr, /was rewritten|do not reproduce|not consistent/, 'the forged log is internally consistent');
    assert.match(checked.stderr, /^keel: audit failed: tree head 5 \(issued .+\): its signature does not verify: it was not issued by the holder of the signing key$/m);
    // Without the public key the forgery cannot be told apart, and the report says signatures were not checked.
    const unchecked = verify(path);
    assert.equal(unchecked.code, 0, unchecked.stderr);
    assert.match(unchecked.stdout, /signatures NOT checked: no public key/);
  });

  test('a public key that is not an Ed25519 public key is refused in one line before anything is read', () => {
    const result = verify(copyOfOriginal(), '--public-key', join(folder, 'keys', 'audit-signing-key.pem'));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^keel: error \[config-invalid\]: .*holds a private key; the verifier takes the public key only\n$/);
  });
});

test('keel audit keygen writes the private key 0600 and never overwrites a key', () => {
  assert.equal(statSync(join(folder, 'keys', 'audit-signing-key.pem')).mode & 0o777, 0o600);
  const before = readFileSync(join(folder, 'keys', 'audit-signing-key.pem'), 'utf8');
  const again = keel('audit', 'keygen', '--out', 'keys');
  assert.equal(again.code, 2);
  assert.match(again.stderr, /^keel: error \[usage-invalid\]: .*audit-signing-key\.pem exists; keel audit keygen never overwrites a key \(choose another --out\)\n$/);
  assert.equal(readFileSync(join(folder, 'keys', 'audit-signing-key.pem'), 'utf8'), before);
});

describe('keel audit prove', () => {
  test("a run's inclusion proof, as printed with --json, verifies against the signed tree head with the public key", () => {
    const run = victim(original);
    const result = keel('audit', 'prove', run.id, '--json', '--db', original);
    assert.equal(result.code, 0, result.stderr);
    const proof = JSON.parse(result.stdout) as RunInclusionProof;
    assert.equal(proof.leaf.runId, run.id);
    assert.equal(proof.leaf.seq, run.lastSeq);
    const stored = withDatabase(original, (database) => events(database, run.key).find((event) => event.seq === run.lastSeq)?.hash);
    assert.equal(proof.leaf.eventHash, stored, "the leaf is the run's last event");
    const path = proof.inclusionProof.map((hash) => Buffer.from(hash, 'hex'));
    const root = Buffer.from(proof.treeHead.rootHash, 'hex');
    assert.equal(verifyInclusion(auditLeafHash(proof.leaf), proof.leaf.index, proof.treeHead.treeSize, path, root), true);
    assert.equal(verifyInclusion(auditLeafHash({ ...proof.leaf, seq: proof.leaf.seq - 1 }), proof.leaf.index, proof.treeHead.treeSize, path, root), false, 'another checkpoint does not verify');
    const head: AuditTreeHeadV1 = { ...proof.treeHead, compactRange: [] };
    assert.equal(verifyTreeHeadSignature(head, loadVerifyingKey(publicKey)), true);
    assert.equal(verifyTreeHeadSignature({ ...head, treeSize: head.treeSize + 1 }, loadVerifyingKey(publicKey)), false);
    // The package's one-call check: both of the above.
    assert.equal(verifyRunInclusionProof(proof, loadVerifyingKey(publicKey)), true);
    assert.equal(verifyRunInclusionProof(proof, loadVerifyingKey(join(folder, 'attacker-keys', 'audit-public-key.pem'))), false, 'another key');
    assert.equal(verifyRunInclusionProof({ ...proof, leaf: { ...proof.leaf, eventHash: '0'.repeat(64) } }, loadVerifyingKey(publicKey)), false, 'another event');
  });

  test('a run nobody anchored, and a run that does not exist, are refused in one line', () => {
    const unknown = keel('audit', 'prove', 'run_nobody', '--db', original);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^keel: error \[run-not-found\]: no run run_nobody\n$/);
  });
});
