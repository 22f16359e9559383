import { decode as decodeO200k, encode as encodeO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { decode as decodeCl100k, encode as encodeCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { textTokenCounter } from '../cost/index.ts';
import type { TextTokenizer } from './context-spec.ts';

// Counting comes from the cost component, so a manifest's totals equal the prompt count that
// budgets and routing use; encode and decode are needed here to truncate at token boundaries.
const plain = { disallowedSpecial: new Set<string>() };
const withCodec = (provider: string, modelId: string, encode: (text: string) => number[], decode: (tokens: number[]) => string): TextTokenizer => {
  const counter = textTokenCounter(provider, modelId);
  return { name: counter.name, estimated: counter.estimated, count: (text) => counter.count(text), encode, decode };
};
const encodeO200kPlain = (text: string) => encodeO200k(text, plain);
const encodeCl100kPlain = (text: string) => encodeCl100k(text, plain);
const o200k = withCodec('sim', 'default', encodeO200kPlain, decodeO200k);
const cl100k = withCodec('openai', 'gpt-4', encodeCl100kPlain, decodeCl100k);
const anthropicEstimate = withCodec('anthropic', 'any', encodeO200kPlain, decodeO200k);
const unknownEstimate = withCodec('other', 'any', encodeO200kPlain, decodeO200k);

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
