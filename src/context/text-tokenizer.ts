import { countTokens as countO200k, decode as decodeO200k, encode as encodeO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { countTokens as countCl100k, decode as decodeCl100k, encode as encodeCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import type { TextTokenizer } from './context-spec.ts';

// Mirrors src/cost/token-count.ts so that a manifest's totals equal the prompt count cost uses for
// budgets and routing. (Proposed: cost exports a `countTextTokens` and this file goes away.)

// Anthropic's tokenizer is not published; its counts run about 10% above o200k on English text.
const anthropicFactor = 1.1;

const o200k: TextTokenizer = { name: 'o200k_base', estimated: false, count: countO200k, encode: encodeO200k, decode: decodeO200k };
const cl100k: TextTokenizer = { name: 'cl100k_base', estimated: false, count: countCl100k, encode: encodeCl100k, decode: decodeCl100k };
const anthropicEstimate: TextTokenizer = {
  name: 'o200k_base×1.1',
  estimated: true,
  count: (text) => Math.ceil(countO200k(text) * anthropicFactor),
  encode: encodeO200k,
  decode: decodeO200k,
};
const unknownEstimate: TextTokenizer = { ...o200k, estimated: true };

/**
 * The tokenizer of the target model. Returns shared instances, so counts cached per tokenizer are
 * reused across assemblies.
 */
export function tokenizerForModel(provider: string, modelId: string): TextTokenizer {
  if (provider === 'openai') return /^(gpt-4(?!o|\.1)|gpt-3\.5)/.test(modelId) ? cl100k : o200k;
  // The simulator reports usage counted with o200k, so for it this count is exact.
  if (provider === 'sim') return o200k;
  if (provider === 'anthropic') return anthropicEstimate;
  return unknownEstimate;
}
