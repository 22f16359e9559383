import type { ContextItem, ContextRole, ContextSection, SectionKind, TextTokenizer } from './context-spec.ts';
import { contentHash, countText } from './measure-text.ts';

/** Counted once per prompt and once per message, as Keel's prompt counter (src/cost) does. */
export const framing = { perPrompt: 3, perItem: 4 } as const;

/** An item as assembly works on it: the text it would send now, measured. */
export type Candidate = {
  item: ContextItem;
  section: string;
  role: ContextRole;
  /** The text sent, possibly a cut of item.text. */
  text: string;
  /** Tokens of the message content, as the prompt counter counts it. */
  tokens: number;
  contentHash: string;
  truncated?: 'tail' | 'head';
  summary?: true;
};

export function defaultRole(kind: SectionKind): ContextRole {
  return kind === 'instructions' ? 'system' : 'user';
}

export function costOf(candidate: Candidate): number {
  return candidate.tokens + framing.perItem;
}

export function totalCost(candidates: readonly Candidate[]): number {
  let total = 0;
  for (const candidate of candidates) total += candidate.tokens + framing.perItem;
  return total;
}

export function measureItem(tokenizer: TextTokenizer, section: ContextSection, item: ContextItem, summary = false): Candidate {
  const role = item.role ?? defaultRole(section.kind);
  const candidate: Candidate = {
    item,
    section: section.name,
    role,
    text: item.text,
    tokens: contentTokens(tokenizer, role, item, item.text),
    contentHash: contentHash(item.text),
  };
  if (summary) candidate.summary = true;
  return candidate;
}

/**
 * A tool result is counted the way the prompt counter counts it: as the JSON of its part. Built
 * here in the same key order as the message builder, so the two always agree.
 */
export function contentTokens(tokenizer: TextTokenizer, role: ContextRole, item: ContextItem, text: string): number {
  if (role !== 'tool') return countText(tokenizer, text);
  return countText(tokenizer, JSON.stringify(toolResultPart(item, text)));
}

export function toolResultPart(item: ContextItem, text: string): { type: 'tool-result'; toolCallId: string; toolName: string; output: string } {
  return { type: 'tool-result', toolCallId: item.meta?.toolCallId ?? '', toolName: item.meta?.toolName ?? '', output: text };
}
