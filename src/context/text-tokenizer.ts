import { textTokenCounter } from '../cost/index.ts';
import type { TextTokenizer } from './context-spec.ts';

// Counting, encoding and decoding come from the cost component, so a manifest's totals equal the
// prompt count that budgets and routing use (and each encoding loads only when first used);
// encode and decode are needed here to truncate at token boundaries.
const withCodec = (provider: string, modelId: string): TextTokenizer => {
  const counter = textTokenCounter(provider, modelId);
  return { name: counter.name, estimated: counter.estimated, count: (text) => counter.count(text), encode: (text) => counter.encode(text), decode: (tokens) => counter.decode(tokens) };
};
const o200k = withCodec('sim', 'default');
const cl100k = withCodec('openai', 'gpt-4');
const anthropicEstimate = withCodec('anthropic', 'any');
const unknownEstimate = withCodec('other', 'any');

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
