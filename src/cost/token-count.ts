import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import type { GenerateOptionsV1 } from '../spec/index.ts';

export interface TokenCount {
  tokens: number;
  /** False when the model's own tokenizer counted; true for a labelled estimate. */
  estimated: boolean;
  tokenizer: string;
}

// Chat framing adds a few tokens per message (role and separators), as OpenAI documents.
const perMessageOverhead = 4;
// Anthropic's tokenizer is not published; its counts run about 10% above o200k on English text.
const anthropicFactor = 1.1;

function tokenizerFor(provider: string, modelId: string): { count: (text: string) => number; name: string; exact: boolean } {
  if (provider === 'openai') {
    if (/^(gpt-4(?!o|\.1)|gpt-3\.5)/.test(modelId)) return { count: countCl100k, name: 'cl100k_base', exact: true };
    return { count: countO200k, name: 'o200k_base', exact: true };
  }
  // The simulator reports usage counted with o200k, so for it this count is exact.
  if (provider === 'sim') return { count: countO200k, name: 'o200k_base', exact: true };
  if (provider === 'anthropic') return { count: (text) => Math.ceil(countO200k(text) * anthropicFactor), name: 'o200k_base×1.1', exact: false };
  return { count: countO200k, name: 'o200k_base', exact: false };
}

/** Prompt tokens of a request, counted before it is sent (messages, tools and schema). */
export function countPromptTokens(provider: string, modelId: string, request: GenerateOptionsV1): TokenCount {
  const tokenizer = tokenizerFor(provider, modelId);
  let tokens = 3;
  for (const message of request.messages) {
    tokens += perMessageOverhead;
    if (typeof message.content === 'string') tokens += tokenizer.count(message.content);
    else for (const part of message.content) tokens += tokenizer.count(part.type === 'text' ? part.text : JSON.stringify(part));
  }
  if (request.tools !== undefined && request.tools.length > 0) tokens += tokenizer.count(JSON.stringify(request.tools));
  if (request.responseFormat?.schema !== undefined) tokens += tokenizer.count(JSON.stringify(request.responseFormat.schema));
  return { tokens, estimated: !tokenizer.exact, tokenizer: tokenizer.name };
}
