/**
 * The Merkle tree of RFC 6962 §2.1 (Certificate Transparency), with the proof verification of
 * RFC 9162 §2.1.3.2 and §2.1.4.2. Leaves and interior nodes are hashed with distinct one-byte
 * prefixes, so a leaf can never be passed off as a node. Hashes are 32-byte Buffers.
 */
// Not an ES import: node:crypto's namespace loads Web Crypto into every CLI start that hashes
// (docs/architecture.md, CLI start-up).
const { createHash } = process.getBuiltinModule('node:crypto');

export type Hash = Buffer;

const leafPrefix = Buffer.from([0x00]);
const nodePrefix = Buffer.from([0x01]);

/** MTH({}): the hash of the empty string. */
export const emptyRoot: Hash = createHash('sha256').digest();

/** MTH({d}) = SHA-256(0x00 || d). */
export function leafHash(leafInput: Uint8Array): Hash {
  return createHash('sha256').update(leafPrefix).update(leafInput).digest();
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Hash, right: Hash): Hash {
  return createHash('sha256').update(nodePrefix).update(left).update(right).digest();
}

/** The largest power of two smaller than n (n > 1): where RFC 6962 splits a tree of n leaves. */
function splitPoint(size: number): number {
  let point = 1;
  while (point * 2 < size) point *= 2;
  return point;
}

function isPowerOfTwo(size: number): boolean {
  return size > 0 && (size & (size - 1)) === 0;
}

/**
 * The right edge of a tree: the roots of its perfect subtrees, largest (leftmost) first, one per
 * set bit of the size. Appending a leaf merges at most log2(n) of them, so a log can extend its
 * root without rehashing its leaves.
 */
export interface CompactRange {
  size: number;
  /** Oldest (largest subtree) first. */
  hashes: Hash[];
}

export const emptyRange: CompactRange = { size: 0, hashes: [] };

export function appendLeaf(range: CompactRange, leaf: Hash): CompactRange {
  const hashes = [...range.hashes, leaf];
  // Each trailing one bit of the old size is a subtree as large as the one just completed.
  for (let size = range.size; (size & 1) === 1; size = Math.floor(size / 2)) {
    const right = hashes.pop() as Hash;
    const left = hashes.pop() as Hash;
    hashes.push(nodeHash(left, right));
  }
  return { size: range.size + 1, hashes };
}

/** The tree's root from its right edge: the subtrees folded from the right, as RFC 6962 splits them. */
export function rangeRoot(range: CompactRange): Hash {
  if (range.hashes.length === 0) return emptyRoot;
  let root = range.hashes[range.hashes.length - 1] as Hash;
  for (let index = range.hashes.length - 2; index >= 0; index -= 1) root = nodeHash(range.hashes[index] as Hash, root);
  return root;
}

/**
 * A tree held whole, for proofs: every perfect, aligned subtree's hash is kept by level, so any
 * subtree the proofs ask for costs O(log n) node hashes after an O(n) build.
 */
export class MerkleTree {
  readonly #levels: Hash[][];

  constructor(leafHashes: readonly Hash[]) {
    const levels: Hash[][] = [[...leafHashes]];
    for (let level = levels[0] as Hash[]; level.length > 1; ) {
      const next: Hash[] = [];
      for (let index = 0; index + 1 < level.length; index += 2) next.push(nodeHash(level[index] as Hash, level[index + 1] as Hash));
      levels.push(next);
      level = next;
    }
    this.#levels = levels;
  }

  get size(): number {
    return (this.#levels[0] as Hash[]).length;
  }

  /** MTH of the first `size` leaves (default all). */
  root(size = this.size): Hash {
    this.#checkSize(size);
    return this.#subtree(0, size);
  }

  /** PATH(index, D[size]): the audit path of leaf `index` in the tree of the first `size` leaves. */
  inclusionProof(index: number, size = this.size): Hash[] {
    this.#checkSize(size);
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new RangeError(`leaf ${index} is not in a tree of ${size} leaves`);
    return this.#path(index, 0, size);
  }

  /** PROOF(from, D[to]): that the tree of `from` leaves is a prefix of the tree of `to`. */
  consistencyProof(from: number, to = this.size): Hash[] {
    this.#checkSize(to);
    if (!Number.isSafeInteger(from) || from < 0 || from > to) throw new RangeError(`cannot prove a tree of ${from} leaves consistent with one of ${to}`);
    if (from === 0 || from === to) return [];
    return this.#subproof(from, 0, to, true);
  }

  #checkSize(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) throw new RangeError(`the tree has ${this.size} leaves, not ${size}`);
  }

  /** MTH(D[start:end]). The proofs only ask for aligned left halves and suffixes, split as RFC 6962 does. */
  #subtree(start: number, end: number): Hash {
    const size = end - start;
    if (size === 0) return emptyRoot;
    if (isPowerOfTwo(size) && start % size === 0) return this.#levels[Math.log2(size)]?.[start / size] as Hash;
    const split = splitPoint(size);
    return nodeHash(this.#subtree(start, start + split), this.#subtree(start + split, end));
  }

  #path(index: number, start: number, end: number): Hash[] {
    const size = end - start;
    if (size <= 1) return [];
    const split = splitPoint(size);
    return index < split
      ? [...this.#path(index, start, start + split), this.#subtree(start + split, end)]
      : [...this.#path(index - split, start + split, end), this.#subtree(start, start + split)];
  }

  #subproof(from: number, start: number, end: number, whole: boolean): Hash[] {
    const size = end - start;
    if (from === size) return whole ? [] : [this.#subtree(start, end)];
    const split = splitPoint(size);
    return from <= split
      ? [...this.#subproof(from, start, start + split, whole), this.#subtree(start + split, end)]
      : [...this.#subproof(from - split, start + split, end, false), this.#subtree(start, start + split)];
  }
}

/** RFC 9162 §2.1.3.2: does `proof` place `leaf` at `index` in the tree of `size` leaves with `root`? */
export function verifyInclusion(leaf: Hash, index: number, size: number, proof: readonly Hash[], root: Hash): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let node = index;
  let last = size - 1;
  let hash = leaf;
  for (const sibling of proof) {
    if (last === 0) return false;
    if (node % 2 === 1 || node === last) {
      hash = nodeHash(sibling, hash);
      while (node % 2 === 0 && node !== 0) {
        node = Math.floor(node / 2);
        last = Math.floor(last / 2);
      }
    } else {
      hash = nodeHash(hash, sibling);
    }
    node = Math.floor(node / 2);
    last = Math.floor(last / 2);
  }
  return last === 0 && hash.equals(root);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree (fromSize, fromRoot) is a prefix of (toSize, toRoot)? */
export function verifyConsistency(fromSize: number, toSize: number, fromRoot: Hash, toRoot: Hash, proof: readonly Hash[]): boolean {
  if (!Number.isSafeInteger(fromSize) || !Number.isSafeInteger(toSize) || fromSize < 0 || fromSize > toSize) return false;
  if (fromSize === toSize) return proof.length === 0 && fromRoot.equals(toRoot);
  // Every tree extends the empty one; RFC 6962 defines no proof for it.
  if (fromSize === 0) return proof.length === 0 && fromRoot.equals(emptyRoot);
  const path = isPowerOfTwo(fromSize) ? [fromRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let node = fromSize - 1;
  let last = toSize - 1;
  while (node % 2 === 1) {
    node = Math.floor(node / 2);
    last = Math.floor(last / 2);
  }
  let fromHash = path[0] as Hash;
  let toHash = path[0] as Hash;
  for (const sibling of path.slice(1)) {
    if (last === 0) return false;
    if (node % 2 === 1 || node === last) {
      fromHash = nodeHash(sibling, fromHash);
      toHash = nodeHash(sibling, toHash);
      while (node % 2 === 0 && node !== 0) {
        node = Math.floor(node / 2);
        last = Math.floor(last / 2);
      }
    } else {
      toHash = nodeHash(toHash, sibling);
    }
    node = Math.floor(node / 2);
    last = Math.floor(last / 2);
  }
  return last === 0 && fromHash.equals(fromRoot) && toHash.equals(toRoot);
}
