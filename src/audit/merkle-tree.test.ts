import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Hash } from './merkle-tree.ts';
import { appendLeaf, emptyRange, leafHash, MerkleTree, rangeRoot, verifyConsistency, verifyInclusion } from './merkle-tree.ts';

// The public Certificate Transparency test vectors (RFC 6962's reference implementation's
// merkle_tree_test.cc; the same in Go's transparency-dev/merkle testonly package).
const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((hex) => Buffer.from(hex, 'hex'));
const roots = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const inclusionVectors: { index: number; size: number; path: string[] }[] = [
  {
    index: 0,
    size: 8,
    path: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    path: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];
const consistencyVectors: { from: number; to: number; proof: string[] }[] = [
  { from: 1, to: 8, proof: inclusionVectors[0]?.path ?? [] },
  {
    from: 6,
    to: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { from: 2, to: 5, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
];

const hex = (hashes: readonly Hash[]): string[] => hashes.map((hash) => hash.toString('hex'));
const tree = new MerkleTree(leaves.map(leafHash));

function flipped(hash: Hash, byte: number): Hash {
  const copy = Buffer.from(hash);
  copy[byte % copy.length] = (copy[byte % copy.length] as number) ^ 0x01;
  return copy;
}

describe('RFC 6962 test vectors', () => {
  test('the root of the first n leaves, for n = 0..8, from the whole tree and from the compact range', () => {
    let range = emptyRange;
    for (let size = 0; size <= leaves.length; size += 1) {
      assert.equal(tree.root(size).toString('hex'), roots[size], `tree root of ${size} leaves`);
      assert.equal(rangeRoot(range).toString('hex'), roots[size], `compact range root of ${size} leaves`);
      if (size < leaves.length) range = appendLeaf(range, leafHash(leaves[size] as Buffer));
    }
  });

  test('inclusion proofs of leaves 0 and 5 in the 8-leaf tree, and their verification', () => {
    for (const vector of inclusionVectors) {
      const proof = tree.inclusionProof(vector.index, vector.size);
      assert.deepEqual(hex(proof), vector.path);
      const root = Buffer.from(roots[vector.size] as string, 'hex');
      assert.equal(verifyInclusion(leafHash(leaves[vector.index] as Buffer), vector.index, vector.size, proof, root), true);
      assert.equal(verifyInclusion(leafHash(leaves[vector.index] as Buffer), vector.index + 1, vector.size, proof, root), false, 'the wrong index fails');
    }
  });

  test('consistency proofs 1→8, 6→8 and 2→5, and their verification', () => {
    for (const vector of consistencyVectors) {
      const proof = tree.consistencyProof(vector.from, vector.to);
      assert.deepEqual(hex(proof), vector.proof, `${vector.from}→${vector.to}`);
      const fromRoot = Buffer.from(roots[vector.from] as string, 'hex');
      const toRoot = Buffer.from(roots[vector.to] as string, 'hex');
      assert.equal(verifyConsistency(vector.from, vector.to, fromRoot, toRoot, proof), true);
      assert.equal(verifyConsistency(vector.from, vector.to, toRoot, fromRoot, proof), false, 'swapped roots fail');
    }
  });
});

describe('the tree on random leaves', () => {
  const randomLeaves = Array.from({ length: 200 }, () => leafHash(randomBytes(1 + Math.floor(Math.random() * 40))));
  const big = new MerkleTree(randomLeaves);

  test('the incrementally kept compact range has the from-scratch root at every size 1..200, in at most log2 n hashes', () => {
    let range = emptyRange;
    for (let size = 1; size <= randomLeaves.length; size += 1) {
      range = appendLeaf(range, randomLeaves[size - 1] as Hash);
      assert.ok(range.hashes.length <= Math.floor(Math.log2(size)) + 1);
      assert.ok(rangeRoot(range).equals(new MerkleTree(randomLeaves.slice(0, size)).root()), `size ${size}`);
      assert.ok(rangeRoot(range).equals(big.root(size)), `size ${size} as a prefix`);
    }
  });

  test('every inclusion and consistency proof up to 64 leaves verifies, and fails when any byte of it is flipped', () => {
    for (let size = 1; size <= 64; size += 1) {
      const root = big.root(size);
      for (let index = 0; index < size; index += 1) {
        const proof = big.inclusionProof(index, size);
        const leaf = randomLeaves[index] as Hash;
        assert.equal(verifyInclusion(leaf, index, size, proof, root), true, `leaf ${index} of ${size}`);
        proof.forEach((_, position) => {
          const tampered = proof.map((hash, at) => (at === position ? flipped(hash, index + size) : hash));
          assert.equal(verifyInclusion(leaf, index, size, tampered, root), false, `flipped proof hash ${position}, leaf ${index} of ${size}`);
        });
        assert.equal(verifyInclusion(flipped(leaf, size), index, size, proof, root), false);
        assert.equal(verifyInclusion(leaf, index, size, proof, flipped(root, index)), false);
      }
      for (let from = 1; from <= size; from += 1) {
        const proof = big.consistencyProof(from, size);
        const fromRoot = big.root(from);
        assert.equal(verifyConsistency(from, size, fromRoot, root, proof), true, `${from}→${size}`);
        proof.forEach((_, position) => {
          const tampered = proof.map((hash, at) => (at === position ? flipped(hash, from) : hash));
          assert.equal(verifyConsistency(from, size, fromRoot, root, tampered), false, `flipped proof hash ${position}, ${from}→${size}`);
        });
        if (from < size) {
          assert.equal(verifyConsistency(from, size, flipped(fromRoot, size), root, proof), false);
          assert.equal(verifyConsistency(from, size, fromRoot, flipped(root, from), proof), false);
          assert.equal(verifyConsistency(from, size, fromRoot, root, proof.slice(0, -1)), false, 'a shortened proof fails');
        }
      }
    }
  });

  test('a proof for the wrong sizes does not verify', () => {
    const proof = big.inclusionProof(3, 10);
    assert.equal(verifyInclusion(randomLeaves[3] as Hash, 3, 11, proof, big.root(11)), false);
    assert.equal(verifyInclusion(randomLeaves[3] as Hash, 10, 10, proof, big.root(10)), false);
    assert.throws(() => big.inclusionProof(10, 10), RangeError);
    assert.throws(() => big.consistencyProof(11, 10), RangeError);
  });
});
