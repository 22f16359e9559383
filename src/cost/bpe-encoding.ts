import type { RankTable } from './rank-table.ts';

/**
 * Byte-pair encoding over a `RankTable`, tiktoken's algorithm: text is split by the encoding's
 * pattern, a piece that is a token is one, and any other piece's bytes are merged pair by pair,
 * always the pair of lowest rank (the leftmost among equals), until no pair is a token. Text is
 * plain text: a special token's spelling is counted as the characters it is.
 */
export class BpeEncoding {
  readonly #ranks: RankTable;
  readonly #pattern: RegExp;
  readonly #encoder = new TextEncoder();
  #scratch = new Uint8Array(256);

  constructor(ranks: RankTable, pattern: RegExp) {
    this.#ranks = ranks;
    this.#pattern = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  }

  countTokens(text: string): number {
    let tokens = 0;
    this.#pieces(text, (bytes, length) => {
      tokens += length === 1 || this.#ranks.rankOf(bytes, 0, length) >= 0 ? 1 : this.#merge(bytes, length).length - 1;
    });
    return tokens;
  }

  encode(text: string): number[] {
    const tokens: number[] = [];
    this.#pieces(text, (bytes, length) => {
      const whole = this.#ranks.rankOf(bytes, 0, length);
      if (whole >= 0) {
        tokens.push(whole);
        return;
      }
      const bounds = this.#merge(bytes, length);
      for (let index = 0; index + 1 < bounds.length; index += 1) tokens.push(this.#ranks.rankOf(bytes, bounds[index] as number, bounds[index + 1] as number));
    });
    return tokens;
  }

  /** The text of `tokens`; bytes that end in the middle of a character are left out, as a cut there has no character yet. */
  decode(tokens: readonly number[]): string {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (const token of tokens) {
      const bytes = this.#ranks.bytesOf(token);
      if (bytes === undefined) throw new RangeError(`token ${token} is not in the encoding`);
      parts.push(bytes);
      length += bytes.length;
    }
    const joined = new Uint8Array(length);
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    // A fresh streaming decoder holds back an unfinished last character instead of writing U+FFFD.
    return new TextDecoder().decode(joined, { stream: true });
  }

  /** Nothing to clear: no merges are cached (kept for callers of gpt-tokenizer's interface). */
  clearMergeCache(): void {}

  /** Calls `each` with every piece's UTF-8 bytes (in a scratch buffer reused by the next piece). */
  #pieces(text: string, each: (bytes: Uint8Array, length: number) => void): void {
    this.#pattern.lastIndex = 0;
    for (const [piece] of text.matchAll(this.#pattern)) {
      if (this.#scratch.length < piece.length * 3) this.#scratch = new Uint8Array(piece.length * 3);
      const { written } = this.#encoder.encodeInto(piece, this.#scratch);
      if (written > 0) each(this.#scratch, written);
    }
  }

  /** The boundaries of the tokens bytes[0, length) merges into: token i is bounds[i] to bounds[i + 1]. */
  #merge(bytes: Uint8Array, length: number): number[] {
    const ranks = this.#ranks;
    const none = Number.MAX_SAFE_INTEGER;
    // starts[i] is where part i begins; pairRanks[i] the rank of part i joined with part i + 1.
    const starts: number[] = [];
    const pairRanks: number[] = [];
    for (let index = 0; index < length; index += 1) {
      starts.push(index);
      const rank = index + 2 <= length ? ranks.rankOf(bytes, index, index + 2) : -1;
      pairRanks.push(rank < 0 ? none : rank);
    }
    starts.push(length);
    pairRanks.push(none);
    const joinedRank = (part: number): number => {
      if (part + 2 >= starts.length) return none;
      const rank = ranks.rankOf(bytes, starts[part] as number, starts[part + 2] as number);
      return rank < 0 ? none : rank;
    };
    for (;;) {
      let lowest = none;
      let at = -1;
      for (let part = 0; part + 1 < starts.length; part += 1) {
        if ((pairRanks[part] as number) < lowest) {
          lowest = pairRanks[part] as number;
          at = part;
        }
      }
      if (at < 0) return starts;
      // Part `at` absorbs part at + 1; the pairs either side of it are ranked again.
      starts.splice(at + 1, 1);
      pairRanks.splice(at + 1, 1);
      pairRanks[at] = joinedRank(at);
      if (at > 0) pairRanks[at - 1] = joinedRank(at - 1);
    }
  }
}
