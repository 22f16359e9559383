#!/usr/bin/env node
// @ts-check
/**
 * The offline verifier of a Keel evidence bundle. It is copied into every bundle as verify.mjs and
 * needs nothing but Node (18 or later): no Keel, no packages, no database. It recomputes every
 * event hash and chain, every audit leaf, the root of every signed tree head, the heads' Ed25519
 * signatures, the inclusion and consistency proofs, and checks that each anchored event is still in
 * the bundle as it was anchored. `keel evidence verify` runs this same file.
 *
 *   node verify.mjs [BUNDLE_DIR] [--public-key FILE] [--strict] [--json]
 *
 * Pass the public key you hold yourself: the copy inside the bundle came with the bundle. Exit 0:
 * verified; 1: a check failed (each failure is printed); 2: the bundle cannot be read.
 */
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const bundleFormat = 'keel-evidence/v1';
const genesisHash = '0'.repeat(64);

/** @typedef {{ runId: string, seq: number, time: string, type: string, schemaVersion: number, prevHash: string, hash: string, data: unknown }} BundleEvent */
/** @typedef {{ run: { id: string, task: string, status: string, createdAt: string, lastSeq: number, lastHash: string }, events: BundleEvent[] }} BundleRun */
/** @typedef {{ index: number, runId: string, seq: number, eventHash: string, anchoredAt: string }} BundleLeaf */
/** @typedef {{ treeSize: number, rootHash: string, issuedAt: string, keyId: string, signature: string }} BundleTreeHead */
/** @typedef {{ ok: boolean, failures: string[], warnings: string[], summary: { runs: number, events: number, leaves: number, treeHeads: number, signaturesChecked: boolean, keyId: string | undefined, period: { from: string, to: string } } }} BundleVerdict */

/** @param {Buffer | string} bytes */
function sha256(bytes) {
  return createHash('sha256').update(bytes).digest();
}

/** RFC 8785 canonical JSON for JSON values: sorted keys, ECMAScript number and string forms. @param {unknown} value @returns {string} */
export function canonicalJson(value) {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    if (text === undefined || (typeof value === 'number' && !Number.isFinite(value))) throw new TypeError('not a JSON value');
    return text;
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const record = /** @type {Record<string, unknown>} */ (value);
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

/** An event's hash: SHA-256 of the canonical JSON of every field but the hash. @param {BundleEvent} event */
export function eventHash(event) {
  const { hash: _hash, ...rest } = event;
  return sha256(canonicalJson({ data: rest.data, prevHash: rest.prevHash, runId: rest.runId, schemaVersion: rest.schemaVersion, seq: rest.seq, time: rest.time, type: rest.type })).toString('hex');
}

/** RFC 6962 leaf hash of an audit leaf. @param {Pick<BundleLeaf, 'runId' | 'seq' | 'eventHash'>} leaf */
export function leafHash(leaf) {
  const input = Buffer.from(`keel-audit-leaf/v1\n${canonicalJson({ eventHash: leaf.eventHash, runId: leaf.runId, seq: leaf.seq })}`, 'utf8');
  return sha256(Buffer.concat([Buffer.from([0]), input]));
}

/** @param {Buffer} left @param {Buffer} right */
function nodeHash(left, right) {
  return sha256(Buffer.concat([Buffer.from([1]), left, right]));
}

/** Appends a leaf to a compact range (perfect subtree roots, largest first). @param {{ size: number, hash: Buffer }[]} range @param {Buffer} leaf */
function appendToRange(range, leaf) {
  let node = { size: 1, hash: leaf };
  for (let last = range.at(-1); last !== undefined && last.size === node.size; last = range.at(-1)) {
    range.pop();
    node = { size: last.size * 2, hash: nodeHash(last.hash, node.hash) };
  }
  range.push(node);
}

/** The RFC 6962 root of the leaves a compact range stands for. @param {{ size: number, hash: Buffer }[]} range */
function rangeRoot(range) {
  const last = range.at(-1);
  if (last === undefined) return sha256('');
  let hash = last.hash;
  for (let index = range.length - 2; index >= 0; index -= 1) hash = nodeHash(/** @type {{ hash: Buffer }} */ (range[index]).hash, hash);
  return hash;
}

/** RFC 9162 §2.1.3.2: is `leaf` at `index` in the tree of `size` with this root? @param {Buffer} leaf @param {number} index @param {number} size @param {Buffer[]} path @param {Buffer} root */
export function verifyInclusion(leaf, index, size, path, root) {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let hash = leaf;
  for (const sibling of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      hash = nodeHash(sibling, hash);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      hash = nodeHash(hash, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && hash.equals(root);
}

/** RFC 9162 §2.1.4.2: does the tree of `toSize` extend the tree of `fromSize`? @param {number} fromSize @param {number} toSize @param {Buffer} fromRoot @param {Buffer} toRoot @param {Buffer[]} proof */
export function verifyConsistency(fromSize, toSize, fromRoot, toRoot, proof) {
  if (fromSize === 0 || fromSize > toSize) return false;
  if (fromSize === toSize) return proof.length === 0 && fromRoot.equals(toRoot);
  const path = (fromSize & (fromSize - 1)) === 0 ? [fromRoot, ...proof] : [...proof];
  let fn = fromSize - 1;
  let sn = toSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  const [first, ...rest] = path;
  if (first === undefined) return false;
  let fromHash = first;
  let toHash = first;
  for (const node of rest) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fromHash = nodeHash(node, fromHash);
      toHash = nodeHash(node, toHash);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      toHash = nodeHash(toHash, node);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fromHash.equals(fromRoot) && toHash.equals(toRoot);
}

/** @param {BundleTreeHead} head */
function treeHeadMessage(head) {
  return Buffer.from(`keel-tree-head/v1\ntree-size ${head.treeSize}\nroot ${head.rootHash}\nissued-at ${head.issuedAt}\nkey-id ${head.keyId}\n`, 'utf8');
}

/** @param {string} directory @param {string} name */
function readJson(directory, name) {
  return JSON.parse(readFileSync(join(directory, name), 'utf8'));
}

/** @param {string} directory @param {string} name @returns {any[]} */
function readLines(directory, name) {
  const text = readFileSync(join(directory, name), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

/**
 * Verifies the bundle in `directory`. Never throws for a bad bundle: every problem is a failure.
 * @param {string} directory
 * @param {{ publicKeyPem?: string, strict?: boolean }} [options]
 * @returns {BundleVerdict}
 */
export function verifyBundle(directory, options = {}) {
  /** @type {string[]} */
  const failures = [];
  /** @type {string[]} */
  const warnings = [];
  const manifest = readJson(directory, 'manifest.json');
  if (manifest.format !== bundleFormat) failures.push(`manifest.json names format ${String(manifest.format)}, not ${bundleFormat}`);
  const period = { from: String(manifest.period?.from), to: String(manifest.period?.to) };

  // Every file the manifest lists, byte for byte (a changed file is named before the checks that explain it).
  for (const [name, digest] of Object.entries(/** @type {Record<string, string>} */ (manifest.files ?? {}))) {
    if (!existsSync(join(directory, name))) failures.push(`${name} is listed in the manifest but missing`);
    else if (sha256(readFileSync(join(directory, name))).toString('hex') !== digest) failures.push(`${name} does not match its digest in the manifest: it was changed after the export`);
  }

  /** @type {BundleRun[]} */
  const runs = readLines(directory, 'runs.jsonl');
  /** @type {BundleLeaf[]} */
  const leaves = readLines(directory, 'audit/leaves.jsonl');
  /** @type {BundleTreeHead[]} */
  const heads = readJson(directory, 'audit/tree-heads.json');
  /** @type {Record<string, { leafIndex: number, treeSize: number, path: string[] }>} */
  const inclusionProofs = readJson(directory, 'audit/inclusion-proofs.json');
  /** @type {{ fromSize: number, toSize: number, proof: string[] }[]} */
  const consistencyProofs = readJson(directory, 'audit/consistency-proofs.json');

  // 1. Each run's hash chain, event by event.
  let events = 0;
  /** @type {Map<string, Map<number, string>>} */
  const eventHashes = new Map();
  for (const { run, events: runEvents } of runs) {
    events += runEvents.length;
    /** @type {Map<number, string>} */
    const hashes = new Map();
    eventHashes.set(run.id, hashes);
    let previous = genesisHash;
    let broken = false;
    for (const [position, event] of runEvents.entries()) {
      const where = `run ${run.id} event ${event.seq} (${event.type})`;
      if (event.runId !== run.id) failures.push(`${where}: it names run ${event.runId}`);
      else if (event.seq !== position + 1) failures.push(`${where}: expected event ${position + 1} here: events were removed, inserted or reordered`);
      else if (event.prevHash !== previous) failures.push(`${where}: its predecessor hash does not match event ${position}: events were removed, inserted or reordered`);
      else if (eventHash(event) !== event.hash) failures.push(`${where}: its content does not hash to its recorded hash: it was changed`);
      else {
        hashes.set(event.seq, event.hash);
        previous = event.hash;
        continue;
      }
      broken = true;
      break;
    }
    if (!broken && (run.lastSeq !== runEvents.length || run.lastHash !== previous)) {
      failures.push(`run ${run.id}: its record says the journal ends at event ${run.lastSeq}, the bundle holds ${runEvents.length} events`);
    }
  }

  // 2. The audit log: leaves in order, every tree head's root recomputed, signed, and consistent.
  leaves.forEach((leaf, position) => {
    if (leaf.index !== position) failures.push(`audit leaf ${position} is missing (the next leaf is ${leaf.index}): leaves were removed`);
  });
  const leafHashes = leaves.map((leaf) => leafHash(leaf));
  /** @type {{ size: number, hash: Buffer }[]} */
  const range = [];
  let appended = 0;
  /** @type {Map<number, Buffer>} */
  const roots = new Map();
  let key;
  /** @type {string | undefined} */
  let keyId;
  if (options.publicKeyPem !== undefined) {
    try {
      key = createPublicKey(options.publicKeyPem);
      keyId = sha256(key.export({ type: 'spki', format: 'der' })).toString('hex').slice(0, 32);
    } catch {
      failures.push('the public key given is not a PEM public key');
    }
  } else {
    warnings.push('no public key given: tree head signatures were not checked (pass --public-key with the key you hold)');
  }
  let previousSize = 0;
  for (const head of heads) {
    const name = `tree head ${head.treeSize} (issued ${head.issuedAt})`;
    if (head.treeSize <= previousSize) failures.push(`${name} does not extend tree head ${previousSize}`);
    previousSize = Math.max(previousSize, head.treeSize);
    if (head.treeSize > leafHashes.length) {
      failures.push(`${name}: the bundle holds only ${leafHashes.length} audit leaves: leaves were removed`);
      continue;
    }
    while (appended < head.treeSize) {
      appendToRange(range, /** @type {Buffer} */ (leafHashes[appended]));
      appended += 1;
    }
    const root = rangeRoot(range);
    roots.set(head.treeSize, root);
    if (root.toString('hex') !== head.rootHash) failures.push(`${name}: the audit leaves do not reproduce its root: a leaf was changed, added or removed`);
    if (key !== undefined) {
      let signed;
      try {
        signed = head.keyId === keyId && verifySignature(null, treeHeadMessage(head), key, Buffer.from(head.signature, 'base64'));
      } catch {
        signed = false;
      }
      if (!signed) failures.push(`${name}: ${head.keyId === keyId ? 'its signature does not verify' : `it names key ${head.keyId}, not the given key ${keyId}`}: it was not issued by the holder of the signing key`);
    }
  }
  const latest = heads.at(-1);
  if (latest === undefined && leaves.length > 0) failures.push(`${leaves.length} audit leaves and no tree head: the signed heads were removed`);
  for (const proof of consistencyProofs) {
    const fromHead = heads.find((head) => head.treeSize === proof.fromSize);
    const toHead = heads.find((head) => head.treeSize === proof.toSize);
    if (fromHead === undefined || toHead === undefined) {
      failures.push(`a consistency proof from ${proof.fromSize} to ${proof.toSize} names a tree head the bundle does not hold`);
      continue;
    }
    const path = proof.proof.map((hash) => Buffer.from(hash, 'hex'));
    if (!verifyConsistency(proof.fromSize, proof.toSize, Buffer.from(fromHead.rootHash, 'hex'), Buffer.from(toHead.rootHash, 'hex'), path)) {
      failures.push(`tree head ${proof.toSize} is not consistent with tree head ${proof.fromSize}: the log was rewritten between them`);
    }
  }

  // 3. Every anchored event of a bundled run is there with its anchored hash; every run anchored in
  //    the period is in the bundle.
  const covered = latest?.treeSize ?? 0;
  // A run deleted by a retention job is absent by design when a retention record of a bundled run
  // (its chain verified above; with a public key, its signature checked) names it at the anchored head.
  /** @type {Map<string, { lastSeq: number, lastHash: string }>} */
  const retained = new Map();
  for (const { run, events: runEvents } of runs) {
    if (run.task !== 'run-retention') continue;
    for (const event of runEvents) {
      const record = event.data?.input;
      if (event.type !== 'step-start' || event.data?.name !== 'retention-apply' || eventHashes.get(run.id)?.get(event.seq) !== event.hash || !Array.isArray(record?.runs)) continue;
      if (key !== undefined) {
        const { signature, ...signed } = record;
        const message = Buffer.from(`keel-retention-record/v1\n${canonicalJson(signed)}`, 'utf8');
        if (typeof signature !== 'string' || record.keyId !== keyId || !verifySignature(null, message, key, Buffer.from(signature, 'base64'))) {
          failures.push(`the retention record in run ${run.id} is not signed by the given key: the runs it names count as deleted without a record`);
          continue;
        }
      }
      for (const head of record.runs) retained.set(head.runId, { lastSeq: head.lastSeq, lastHash: head.lastHash });
    }
  }
  /** @type {Map<string, BundleLeaf>} */
  const latestLeafOfRun = new Map();
  for (const leaf of leaves.slice(0, covered)) {
    const hashes = eventHashes.get(leaf.runId);
    if (hashes === undefined) {
      const record = retained.get(leaf.runId);
      if (record !== undefined && (record.lastSeq > leaf.seq || (record.lastSeq === leaf.seq && record.lastHash === leaf.eventHash))) continue;
      if (leaf.anchoredAt >= period.from && leaf.anchoredAt < period.to) failures.push(`run ${leaf.runId} was anchored at event ${leaf.seq} on ${leaf.anchoredAt}, in this bundle's period, but is not in the bundle: it was deleted`);
      continue;
    }
    const previous = latestLeafOfRun.get(leaf.runId);
    if (previous === undefined || leaf.seq > previous.seq) latestLeafOfRun.set(leaf.runId, leaf);
  }
  for (const [runId, leaf] of latestLeafOfRun) {
    const hashes = /** @type {Map<number, string>} */ (eventHashes.get(runId));
    const lastSeq = Math.max(0, ...hashes.keys());
    if (!hashes.has(leaf.seq)) {
      failures.push(`run ${runId} was truncated after it was anchored at event ${leaf.seq}: the bundle's journal ${lastSeq === 0 ? 'has no verified events' : `ends at event ${lastSeq}`}`);
    } else if (hashes.get(leaf.seq) !== leaf.eventHash) {
      failures.push(`run ${runId} was rewritten after it was anchored at event ${leaf.seq}: that event's hash is not the anchored one`);
    }
    const inclusion = inclusionProofs[runId];
    const root = latest === undefined ? undefined : roots.get(latest.treeSize);
    if (inclusion === undefined || root === undefined) {
      failures.push(`run ${runId}: the bundle holds no inclusion proof of its anchor`);
    } else if (!verifyInclusion(/** @type {Buffer} */ (leafHashes[inclusion.leafIndex]), inclusion.leafIndex, inclusion.treeSize, inclusion.path.map((hash) => Buffer.from(hash, 'hex')), root)) {
      failures.push(`run ${runId}: its inclusion proof does not lead to the root of tree head ${inclusion.treeSize}`);
    }
  }
  for (const { run } of runs) {
    const leaf = latestLeafOfRun.get(run.id);
    if (leaf === undefined) warnings.push(`run ${run.id} is not anchored in the audit log: its chain is checked, but nothing signed vouches for it`);
    else if (leaf.seq < run.lastSeq) warnings.push(`run ${run.id} has ${run.lastSeq - leaf.seq} events after its last anchor (event ${leaf.seq})`);
  }
  if (options.strict === true) failures.push(...warnings.filter((warning) => !warning.startsWith('no public key')).map((warning) => `strict: ${warning}`));
  if (options.strict === true && key === undefined) failures.push('strict: no public key given');

  return {
    ok: failures.length === 0,
    failures,
    warnings,
    summary: { runs: runs.length, events, leaves: leaves.length, treeHeads: heads.length, signaturesChecked: key !== undefined, keyId, period },
  };
}

/** @param {string[]} args */
function main(args) {
  let directory = dirname(fileURLToPath(import.meta.url));
  /** @type {string | undefined} */
  let publicKeyFile;
  let strict = false;
  let json = false;
  for (let index = 0; index < args.length; index += 1) {
    const argument = /** @type {string} */ (args[index]);
    if (argument === '--public-key') publicKeyFile = args[++index];
    else if (argument === '--strict') strict = true;
    else if (argument === '--json') json = true;
    else if (argument.startsWith('-')) {
      process.stderr.write(`verify.mjs: unknown option ${argument}; usage: node verify.mjs [BUNDLE_DIR] [--public-key FILE] [--strict] [--json]\n`);
      return 2;
    } else directory = resolve(argument);
  }
  let verdict;
  try {
    const publicKeyPem = publicKeyFile === undefined ? undefined : readFileSync(publicKeyFile, 'utf8');
    verdict = verifyBundle(directory, publicKeyPem === undefined ? { strict } : { publicKeyPem, strict });
  } catch (error) {
    process.stderr.write(`verify.mjs: cannot read the bundle in ${directory}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`);
    return 2;
  }
  if (json) process.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
  else {
    for (const failure of verdict.failures) process.stderr.write(`FAIL ${failure}\n`);
    for (const warning of verdict.warnings) process.stderr.write(`note ${warning}\n`);
    const { summary } = verdict;
    process.stdout.write(
      `${verdict.ok ? 'verified' : 'NOT verified'}: ${summary.runs} runs, ${summary.events} events, ${summary.leaves} audit leaves, ${summary.treeHeads} signed tree heads` +
        `${summary.signaturesChecked ? ` (signatures checked with key ${summary.keyId})` : ' (signatures not checked)'}; period ${summary.period.from} to ${summary.period.to}\n`,
    );
  }
  return verdict.ok ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
