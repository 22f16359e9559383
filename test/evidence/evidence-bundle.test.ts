/**
 * Evidence bundles, end to end: the real `keel demo` runs under an audit signing key, `keel evidence
 * export` writes a bundle, and both `keel evidence verify` and the bundle's own verify.mjs — copied
 * alone into an empty folder and run on the Node 22 binary, with no Keel and no packages in reach —
 * accept it untouched and reject it after each attack. The attacker edits the bundle with the
 * journal's own hash functions and rewrites the manifest's digests too (they are not signed), so
 * only the signed audit log can catch what was done.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { auditLeafHash, loadSigningKey, MerkleTree, signTreeHead } from '../../src/audit/index.ts';
import { hashRecord } from '../../src/journal/index.ts';
import type { JournalRecordV1, JsonValue } from '../../src/spec/index.ts';

const root = join(import.meta.dirname, '..', '..');
const launcher = join(root, 'bin', 'keel.js');
const node22 = join(root, 'node_modules', 'node22', 'bin', 'node');
const folder = mkdtempSync(join(tmpdir(), 'keel-evidence-'));
const database = join(folder, 'keel.db');
const publicKey = join(folder, 'keys', 'audit-public-key.pem');
const bundle = join(folder, 'bundle');
after(() => rmSync(folder, { recursive: true, force: true }));

function environment(): NodeJS.ProcessEnv {
  const { KEEL_DB: _database, KEEL_TASKS: _tasks, KEEL_CONFIG: _config, KEEL_AUDIT_SIGNING_KEY_FILE: _key, KEEL_AUDIT_PUBLIC_KEY_FILE: _public, ...rest } = process.env;
  return { ...rest, NO_COLOR: '1', USER: 'tester' };
}

function keel(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [launcher, ...args], { cwd: folder, env: environment(), encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The bundle's verify.mjs, copied with the bundle into an empty folder and run by Node 22 there. */
function standalone(directory: string, ...extra: string[]): { code: number | null; stdout: string; stderr: string } {
  const alone = mkdtempSync(join(tmpdir(), 'keel-evidence-alone-'));
  try {
    cpSync(directory, join(alone, 'bundle'), { recursive: true });
    cpSync(publicKey, join(alone, 'trusted-public-key.pem'));
    const result = spawnSync(node22, [join(alone, 'bundle', 'verify.mjs'), join(alone, 'bundle'), '--public-key', join(alone, 'trusted-public-key.pem'), ...extra], { cwd: alone, env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(alone, { recursive: true, force: true });
  }
}

interface BundleRun {
  run: { id: string; status: string; lastSeq: number; lastHash: string };
  events: JournalRecordV1[];
}

let copies = 0;
/** A copy of the exported bundle for one attack, with helpers that rewrite what an attacker would. */
function attackCopy() {
  copies += 1;
  const directory = join(folder, `attacked-${copies}`);
  cpSync(bundle, directory, { recursive: true });
  const runsFile = join(directory, 'runs.jsonl');
  const runs = (): BundleRun[] =>
    readFileSync(runsFile, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as BundleRun);
  const save = (edited: BundleRun[]) => {
    writeFileSync(runsFile, edited.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
    // The manifest's digests are not signed: an attacker recomputes them.
    const manifestPath = join(directory, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: Record<string, string> };
    for (const name of Object.keys(manifest.files)) manifest.files[name] = createHash('sha256').update(readFileSync(join(directory, name))).digest('hex');
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  };
  return { directory, runs, save };
}

/** The demo's longest run that ended ok: what every attack goes after. */
function victim(runs: BundleRun[]): BundleRun {
  const found = runs.filter((entry) => entry.run.status === 'ok').sort((left, right) => right.events.length - left.events.length)[0];
  assert.ok(found !== undefined, 'the demo ended a run ok');
  return found;
}

function expectCaught(directory: string, pattern: RegExp): void {
  const cli = keel('evidence', 'verify', directory, '--public-key', publicKey);
  assert.equal(cli.code, 1, `keel evidence verify accepted it: ${cli.stdout}`);
  assert.match(cli.stderr, pattern);
  const alone = standalone(directory);
  assert.equal(alone.code, 1, `verify.mjs accepted it: ${alone.stdout}`);
  assert.match(alone.stderr, pattern);
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

before(() => {
  assert.equal(keel('audit', 'keygen', '--out', 'keys').code, 0);
  assert.equal(keel('audit', 'keygen', '--out', 'attacker-keys').code, 0);
  writeFileSync(join(folder, 'keel.json'), JSON.stringify({ version: 1, routes: [], audit: { signingKeyFile: join('keys', 'audit-signing-key.pem') } }));
  const demo = keel('demo', '--db', database, '--config', 'keel.json');
  assert.equal(demo.code, 0, demo.stderr);
  const files = [database, `${database}-wal`].filter((file) => existsSync(file));
  const before = files.map(sha);
  const exported = keel('evidence', 'export', '--db', database, '--from', '2020-01-01', '--to', '2100-01-01', '--out', bundle, '--public-key', publicKey, '--config', 'keel.json');
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /^wrote .+: 5 runs, \d+ events, 5 audit leaves, \d+ signed tree heads/);
  assert.deepEqual(files.map(sha), before, 'export only reads the store');
});

describe('keel evidence export and verify', () => {
  test('the bundle holds every part, and both verifiers accept it untouched, signatures checked', () => {
    for (const name of ['manifest.json', 'runs.jsonl', 'approvals.jsonl', 'audit/leaves.jsonl', 'audit/tree-heads.json', 'audit/inclusion-proofs.json', 'audit/consistency-proofs.json', 'config/task-configs.json', 'config/policy-sets.json', 'config/snapshot/keel.json', 'retention.md', 'record-keeping-map.md', 'verify.mjs', 'README.md']) {
      assert.ok(existsSync(join(bundle, name)), `${name} is in the bundle`);
    }
    assert.match(readFileSync(join(bundle, 'record-keeping-map.md'), 'utf8'), /Article 12\(2\)[\s\S]*\(a\)[\s\S]*\(b\)[\s\S]*\(c\)[\s\S]*Article 26\(6\)[\s\S]*A\.6\.2\.8/);
    const approvals = readFileSync(join(bundle, 'approvals.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string });
    assert.ok(approvals.some((entry) => entry.type === 'approval-request'), 'the demo run waiting for approval is in the approvals log');
    const cli = keel('evidence', 'verify', bundle, '--public-key', publicKey, '--strict');
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^verified: 5 runs, \d+ events, 5 audit leaves, \d+ signed tree heads \(signatures checked with key [0-9a-f]{32}\)/);
    const alone = standalone(bundle);
    assert.equal(alone.code, 0, alone.stderr);
    assert.match(alone.stdout, /^verified: 5 runs/);
  });

  test('a run cut short is caught', () => {
    const attack = attackCopy();
    const runs = attack.runs();
    const target = victim(runs);
    target.events = target.events.slice(0, 2);
    target.run.lastSeq = 2;
    target.run.lastHash = target.events[1]?.hash ?? '';
    attack.save(runs);
    expectCaught(attack.directory, new RegExp(`run ${target.run.id} was truncated after it was anchored at event \\d+: the bundle's journal ends at event 2`));
  });

  test('a deleted run is caught', () => {
    const attack = attackCopy();
    const runs = attack.runs();
    const target = victim(runs);
    attack.save(runs.filter((entry) => entry !== target));
    expectCaught(attack.directory, new RegExp(`run ${target.run.id} was anchored at event \\d+ on .+, in this bundle's period, but is not in the bundle: it was deleted`));
  });

  test('two events swapped are caught', () => {
    const attack = attackCopy();
    const runs = attack.runs();
    const target = victim(runs);
    const [third, fourth] = [target.events[2], target.events[3]];
    assert.ok(third !== undefined && fourth !== undefined);
    target.events[2] = fourth;
    target.events[3] = third;
    attack.save(runs);
    expectCaught(attack.directory, new RegExp(`run ${target.run.id} event \\d+ \\(.+\\): expected event 3 here`));
  });

  test('a run rewritten with every hash recomputed, but without the key, is caught', () => {
    const attack = attackCopy();
    const runs = attack.runs();
    const target = victim(runs);
    let prevHash = target.events[0]?.hash ?? '';
    target.events = target.events.map((event, index) => {
      if (index === 0) return event;
      const data = { ...(event.data as Record<string, JsonValue>) };
      if (index === 1) data.rewritten = 'by someone without the key';
      const { hash: _hash, ...rest } = event;
      const record = { ...rest, prevHash, data };
      const rehashed = { ...record, hash: hashRecord(record) };
      prevHash = rehashed.hash;
      return rehashed;
    });
    target.run.lastHash = prevHash;
    attack.save(runs);
    expectCaught(attack.directory, new RegExp(`run ${target.run.id} was rewritten after it was anchored at event \\d+: that event's hash is not the anchored one`));
  });

  test('a forged log, its leaves rewritten to match and its heads re-signed with another key, is caught', () => {
    const attack = attackCopy();
    const runs = attack.runs();
    const target = victim(runs);
    target.events[1] = { ...(target.events[1] as JournalRecordV1), data: { forged: true } };
    // Re-chain, then rebuild every leaf and head from the forged journals, signed with the attacker's key.
    let prevHash = target.events[0]?.hash ?? '';
    target.events = target.events.map((event, index) => {
      if (index === 0) return event;
      const { hash: _hash, ...rest } = event;
      const record = { ...rest, prevHash };
      const rehashed = { ...record, hash: hashRecord(record) };
      prevHash = rehashed.hash;
      return rehashed;
    });
    target.run.lastHash = prevHash;
    const leavesPath = join(attack.directory, 'audit', 'leaves.jsonl');
    const leaves = readFileSync(leavesPath, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { index: number; runId: string; seq: number; eventHash: string; anchoredAt: string });
    for (const leaf of leaves) if (leaf.runId === target.run.id) leaf.eventHash = target.events[leaf.seq - 1]?.hash ?? leaf.eventHash;
    writeFileSync(leavesPath, leaves.map((leaf) => `${JSON.stringify(leaf)}\n`).join(''));
    const attacker = loadSigningKey(join(folder, 'attacker-keys', 'audit-signing-key.pem'));
    const headsPath = join(attack.directory, 'audit', 'tree-heads.json');
    const heads = JSON.parse(readFileSync(headsPath, 'utf8')) as { treeSize: number; rootHash: string; issuedAt: string; keyId: string; signature: string }[];
    const tree = new MerkleTree(leaves.map((leaf) => auditLeafHash(leaf)));
    for (const head of heads) {
      head.rootHash = tree.root(head.treeSize).toString('hex');
      head.keyId = attacker.keyId;
      head.signature = signTreeHead(head, attacker);
    }
    writeFileSync(headsPath, JSON.stringify(heads, null, 2));
    attack.save(runs);
    expectCaught(attack.directory, /tree head \d+ \(issued .+\): it names key [0-9a-f]{32}, not the given key [0-9a-f]{32}: it was not issued by the holder of the signing key/);
  });

  test('bad input gets one line and a non-zero exit, and a non-empty --out is left as it was', () => {
    const badDate = keel('evidence', 'export', '--db', database, '--from', 'last tuesday', '--to', '2100-01-01', '--out', join(folder, 'never'));
    assert.notEqual(badDate.code, 0);
    assert.match(badDate.stderr, /^keel: error \[usage-invalid\]: --from last tuesday is not a date/);
    assert.ok(!existsSync(join(folder, 'never')));
    const occupied = join(folder, 'occupied');
    mkdirSync(occupied);
    writeFileSync(join(occupied, 'notes.txt'), 'mine');
    const refused = keel('evidence', 'export', '--db', database, '--from', '2020-01-01', '--to', '2100-01-01', '--out', occupied);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /is not empty: give --out a new or empty directory/);
    assert.deepEqual(readdirSync(occupied), ['notes.txt']);
    const missing = keel('evidence', 'verify', join(folder, 'no-such-bundle'));
    assert.notEqual(missing.code, 0);
    assert.equal(missing.stderr.split('\n').filter((line) => line !== '').length, 1, missing.stderr);
  });
});
