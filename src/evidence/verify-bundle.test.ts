// The bundle's verifier carries its own Merkle and canonical JSON code, since it must run with Node
// alone: it has to agree with Keel's, proof for proof and byte for byte.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { MerkleTree } from '../audit/index.ts';
import { canonicalJson as journalCanonicalJson } from '../journal/index.ts';
import { canonicalJson, verifyConsistency, verifyInclusion } from './verify-bundle.mjs';

test('inclusion and consistency proofs of every tree size up to 40 verify, and wrong ones do not', () => {
  const hashes = Array.from({ length: 40 }, (_, index) => createHash('sha256').update(`leaf ${index}`).digest());
  const tree = new MerkleTree(hashes);
  const wrongRoot = Buffer.alloc(32, 7);
  for (let size = 1; size <= 40; size += 1) {
    const root = tree.root(size);
    for (let index = 0; index < size; index += 1) {
      const proof = tree.inclusionProof(index, size);
      assert.ok(verifyInclusion(hashes[index] as Buffer, index, size, proof, root), `inclusion of ${index} in ${size}`);
      assert.ok(!verifyInclusion(hashes[index] as Buffer, index, size, proof, wrongRoot), `inclusion of ${index} in ${size} under a wrong root`);
      if (size > 1) assert.ok(!verifyInclusion(hashes[(index + 1) % size] as Buffer, index, size, proof, root), `a wrong leaf at ${index} of ${size}`);
    }
    for (let from = 1; from <= size; from += 1) {
      const proof = tree.consistencyProof(from, size);
      assert.ok(verifyConsistency(from, size, tree.root(from), root, proof), `consistency ${from} → ${size}`);
      assert.ok(!verifyConsistency(from, size, tree.root(from), wrongRoot, proof), `consistency ${from} → ${size} with a wrong new root`);
      assert.ok(!verifyConsistency(from, size, wrongRoot, root, proof), `consistency ${from} → ${size} with a wrong old root`);
    }
  }
});

test("canonical JSON matches the journal's for nested, unicode and numeric values", () => {
  const samples: unknown[] = [{ b: 1, a: [3, { z: null, y: 'é\u2028"' }], c: 1e21, d: -0.5, e: true }, [], {}, 'plain', 0.1, { '\u00e9': 1, e: 2, E: 3, '10': 4, '9': 5 }];
  for (const sample of samples) assert.equal(canonicalJson(sample), journalCanonicalJson(sample));
});
