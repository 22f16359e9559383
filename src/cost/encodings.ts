import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BpeEncoding } from './bpe-encoding.ts';
import { RankTable } from './rank-table.ts';

/** The BPE encodings Keel counts with: o200k for GPT-4o and later (and estimates), cl100k for GPT-4 and 3.5. */
export type EncodingName = 'o200k_base' | 'cl100k_base';

/** Counts, encodes and decodes text as plain text (a special token's spelling is its characters). */
export interface Encoding {
  countTokens(text: string): number;
  encode(text: string): number[];
  decode(tokens: readonly number[]): string;
  clearMergeCache(): void;
}

const require = createRequire(import.meta.url);
const loaded = new Map<EncodingName, Encoding>();

type SplitPatterns = { O200K_TOKEN_SPLIT_REGEX: RegExp; CL100K_TOKEN_SPLIT_REGEX: RegExp };

/**
 * An encoding, loaded the first time it is asked for, so a process that never counts for that
 * family reads none of it: the ranks from gpt-tokenizer's `.tiktoken` file into typed arrays
 * (rank-table.ts; o200k ~5 MB where gpt-tokenizer's own tables cost ~45-50 MB of RSS), split by
 * gpt-tokenizer's patterns. Synchronous, as counting is.
 */
export function loadEncoding(name: EncodingName): Encoding {
  let encoding = loaded.get(name);
  if (encoding === undefined) {
    const patterns = require(fileURLToPath(import.meta.resolve('gpt-tokenizer/encodingParams/constants'))) as SplitPatterns;
    encoding = new BpeEncoding(RankTable.load(name), name === 'o200k_base' ? patterns.O200K_TOKEN_SPLIT_REGEX : patterns.CL100K_TOKEN_SPLIT_REGEX);
    loaded.set(name, encoding);
  }
  return encoding;
}
