import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A BPE encoding's mergeable ranks in typed arrays: every token's bytes in one pool, where each
 * rank's bytes start, and an open-addressed hash table from bytes to rank. o200k takes ~5 MB
 * here; gpt-tokenizer's own tables (a 2.4 MB JavaScript array literal turned into 200,000 strings
 * and a Map) cost a process ~45-50 MB of RSS, most of it parsing and compiling that literal.
 * Read from the package's `.tiktoken` file, the encoding's published form (base64 bytes, rank).
 */
export class RankTable {
  readonly #pool: Uint8Array;
  /** Rank r's bytes are pool[starts[r]] to pool[starts[r + 1]]; an unused rank has none. */
  readonly #starts: Uint32Array;
  /** Rank + 1 at a slot (0: empty), found by probing from the bytes' hash. */
  readonly #slots: Int32Array;
  readonly #mask: number;

  constructor(pool: Uint8Array, starts: Uint32Array) {
    this.#pool = pool;
    this.#starts = starts;
    const ranks = starts.length - 1;
    let capacity = 1;
    while (capacity < ranks * 2) capacity *= 2;
    this.#slots = new Int32Array(capacity);
    this.#mask = capacity - 1;
    for (let rank = 0; rank < ranks; rank += 1) {
      const start = starts[rank] as number;
      const end = starts[rank + 1] as number;
      if (end === start) continue;
      let slot = hashBytes(pool, start, end) & this.#mask;
      while (this.#slots[slot] !== 0) slot = (slot + 1) & this.#mask;
      this.#slots[slot] = rank + 1;
    }
  }

  /** Parses a `.tiktoken` file: one `base64 rank` line per token. */
  static parse(file: Uint8Array): RankTable {
    let newlines = 1;
    for (let at = file.indexOf(0x0a); at >= 0; at = file.indexOf(0x0a, at + 1)) newlines += 1;
    // Per line: where its base64 starts and ends, and its rank (typed, so parsing grows no heap).
    const entries = new Int32Array(newlines * 3);
    let lines = 0;
    let maxRank = -1;
    for (let at = 0; at < file.length; ) {
      let space = at;
      while (space < file.length && file[space] !== 0x20) space += 1;
      let rank = 0;
      let end = space + 1;
      while (end < file.length && file[end] !== 0x0a) {
        rank = rank * 10 + ((file[end] as number) - 0x30);
        end += 1;
      }
      if (space > at && space < file.length) {
        entries[lines * 3] = at;
        entries[lines * 3 + 1] = space;
        entries[lines * 3 + 2] = rank;
        if (rank > maxRank) maxRank = rank;
        lines += 1;
      }
      at = end + 1;
    }
    const lengths = new Uint32Array(maxRank + 1);
    const where = new Int32Array(maxRank + 1).fill(-1);
    let total = 0;
    for (let line = 0; line < lines; line += 1) {
      const from = entries[line * 3] as number;
      const to = entries[line * 3 + 1] as number;
      const rank = entries[line * 3 + 2] as number;
      lengths[rank] = decodedLength(file, from, to);
      where[rank] = line;
      total += lengths[rank];
    }
    const pool = new Uint8Array(total);
    const starts = new Uint32Array(maxRank + 2);
    let offset = 0;
    for (let rank = 0; rank <= maxRank; rank += 1) {
      starts[rank] = offset;
      const line = where[rank] as number;
      if (line >= 0) offset = decodeBase64(file, entries[line * 3] as number, entries[line * 3 + 1] as number, pool, offset);
    }
    starts[maxRank + 1] = offset;
    return new RankTable(pool, starts);
  }

  /** Reads the `.tiktoken` file of `encoding` shipped with gpt-tokenizer. */
  static load(encoding: string): RankTable {
    return RankTable.parse(readFileSync(fileURLToPath(import.meta.resolve(`gpt-tokenizer/data/${encoding}.tiktoken`))));
  }

  /** The rank of bytes[start, end), or -1 when they are no token. */
  rankOf(bytes: Uint8Array, start: number, end: number): number {
    const pool = this.#pool;
    const starts = this.#starts;
    const length = end - start;
    let slot = hashBytes(bytes, start, end) & this.#mask;
    for (;;) {
      const entry = this.#slots[slot] as number;
      if (entry === 0) return -1;
      const rank = entry - 1;
      const from = starts[rank] as number;
      if ((starts[rank + 1] as number) - from === length) {
        let index = 0;
        while (index < length && pool[from + index] === bytes[start + index]) index += 1;
        if (index === length) return rank;
      }
      slot = (slot + 1) & this.#mask;
    }
  }

  /** The bytes of `rank` (a view of the pool), or undefined for a rank with none. */
  bytesOf(rank: number): Uint8Array | undefined {
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.#starts.length - 1) return undefined;
    const start = this.#starts[rank] as number;
    const end = this.#starts[rank + 1] as number;
    return end === start ? undefined : this.#pool.subarray(start, end);
  }
}

/** FNV-1a over bytes[start, end). */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let index = start; index < end; index += 1) hash = Math.imul(hash ^ (bytes[index] as number), 0x01000193);
  return hash >>> 0;
}

const base64Values = (() => {
  const values = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let index = 0; index < alphabet.length; index += 1) values[alphabet.charCodeAt(index)] = index;
  return values;
})();

function decodedLength(text: Uint8Array, from: number, to: number): number {
  let padding = 0;
  while (to - padding > from && text[to - padding - 1] === 0x3d) padding += 1;
  return Math.floor(((to - from - padding) * 3) / 4);
}

/** Decodes base64 text[from, to) into out at offset; returns the offset after it. */
function decodeBase64(text: Uint8Array, from: number, to: number, out: Uint8Array, offset: number): number {
  let buffer = 0;
  let bits = 0;
  for (let index = from; index < to; index += 1) {
    const value = base64Values[text[index] as number] as number;
    if (value < 0) continue;
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[offset] = (buffer >> bits) & 0xff;
      offset += 1;
    }
  }
  return offset;
}
