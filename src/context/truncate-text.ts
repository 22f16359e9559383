import type { TextTokenizer } from './context-spec.ts';
import { countText } from './measure-text.ts';

export type TextEnd = 'tail' | 'head';

export type TruncatedText = { text: string; tokens: number };

/**
 * The longest cut of `text` within `maxTokens` that is a literal prefix (cutting the tail) or suffix
 * (cutting the head) of it. Literal, so a cut never invents a character: a token boundary inside a
 * multi-byte character is stepped back over instead of decoded to U+FFFD.
 */
export function truncateText(tokenizer: TextTokenizer, text: string, maxTokens: number, cut: TextEnd): TruncatedText {
  if (maxTokens <= 0 || text === '') return { text: '', tokens: 0 };
  const whole = countText(tokenizer, text);
  if (whole <= maxTokens) return { text, tokens: whole };
  return tokenizer.encode !== undefined && tokenizer.decode !== undefined
    ? byTokens(tokenizer, tokenizer.encode(text), tokenizer.decode, text, maxTokens, cut)
    : byCharacters(tokenizer, text, maxTokens, cut);
}

function byTokens(
  tokenizer: TextTokenizer,
  tokens: number[],
  decode: (tokens: number[]) => string,
  text: string,
  maxTokens: number,
  cut: TextEnd,
): TruncatedText {
  // Re-encoding a cut can merge differently and an estimating tokenizer scales counts, so the
  // candidate is counted again and shrunk until it is within budget.
  let keep = Math.min(tokens.length, maxTokens);
  while (keep > 0) {
    const candidate = decode(cut === 'tail' ? tokens.slice(0, keep) : tokens.slice(tokens.length - keep));
    if (cut === 'tail' ? text.startsWith(candidate) : text.endsWith(candidate)) {
      const count = tokenizer.count(candidate);
      if (count <= maxTokens) return { text: candidate, tokens: count };
      keep -= Math.max(1, count - maxTokens);
    } else {
      keep -= 1;
    }
  }
  return { text: '', tokens: 0 };
}

/** Binary search on cut positions, for tokenizers that only count. Never splits a surrogate pair. */
function byCharacters(tokenizer: TextTokenizer, text: string, maxTokens: number, cut: TextEnd): TruncatedText {
  const slice = (length: number) => (cut === 'tail' ? text.slice(0, safeEnd(text, length)) : text.slice(safeStart(text, text.length - length)));
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (tokenizer.count(slice(middle)) <= maxTokens) low = middle;
    else high = middle - 1;
  }
  const kept = slice(low);
  return { text: kept, tokens: tokenizer.count(kept) };
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function safeEnd(text: string, end: number): number {
  return end > 0 && end < text.length && isHighSurrogate(text.charCodeAt(end - 1)) ? end - 1 : end;
}

function safeStart(text: string, start: number): number {
  return start > 0 && start < text.length && isHighSurrogate(text.charCodeAt(start - 1)) ? start + 1 : start;
}
