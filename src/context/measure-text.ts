import { sha256 } from '../journal/index.ts';
import { BoundedCache } from './bounded-cache.ts';
import type { TextTokenizer } from './context-spec.ts';

// Tokenising is the dominant cost of assembly, and the same texts (instructions, history, popular
// chunks) come back run after run: count each text once per tokenizer, hash it once.
const cacheLimit = 20_000;
const hashes = new BoundedCache<string, string>(cacheLimit);
const countsByTokenizer = new WeakMap<TextTokenizer, BoundedCache<string, number>>();

export function contentHash(text: string): string {
  let hash = hashes.get(text);
  if (hash === undefined) {
    hash = sha256(text);
    hashes.set(text, hash);
  }
  return hash;
}

export function countText(tokenizer: TextTokenizer, text: string): number {
  let counts = countsByTokenizer.get(tokenizer);
  if (counts === undefined) {
    counts = new BoundedCache(cacheLimit);
    countsByTokenizer.set(tokenizer, counts);
  }
  let tokens = counts.get(text);
  if (tokens === undefined) {
    tokens = tokenizer.count(text);
    counts.set(text, tokens);
  }
  return tokens;
}
