import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as O200k from 'gpt-tokenizer/encoding/o200k_base';

/** The BPE encodings Keel counts with: o200k for GPT-4o and later (and estimates), cl100k for GPT-4 and 3.5. */
export type EncodingName = 'o200k_base' | 'cl100k_base';

export type Encoding = Pick<typeof O200k, 'countTokens' | 'encode' | 'decode' | 'clearMergeCache'>;

const require = createRequire(import.meta.url);
const loaded = new Map<EncodingName, Encoding>();

/**
 * An encoding, loaded the first time it is asked for: its rank table is megabytes of JavaScript
 * (o200k 2.4 MB, cl100k 1.2 MB), which a process that never counts for that family should not
 * parse. Loaded synchronously (counting is synchronous) through require() of the package's ES
 * module, so it is the same module instance an `import` of the entry point gets.
 */
export function loadEncoding(name: EncodingName): Encoding {
  let encoding = loaded.get(name);
  if (encoding === undefined) {
    encoding = require(fileURLToPath(import.meta.resolve(`gpt-tokenizer/encoding/${name}`))) as Encoding;
    loaded.set(name, encoding);
  }
  return encoding;
}
