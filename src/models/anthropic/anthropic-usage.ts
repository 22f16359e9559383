import type { UsageV1 } from '../../spec/index.ts';

/** The token counts Anthropic reports, on a message or, cumulatively, on stream events. */
export interface AnthropicTokenCounts {
  input_tokens: number | null;
  output_tokens: number;
  cache_read_input_tokens: number | null;
  cache_creation_input_tokens: number | null;
}

/**
 * Anthropic's `input_tokens` counts only the prompt tokens after the last cache breakpoint; cache
 * reads and cache writes are reported beside it. Keel's `inputTokens` is the whole prompt, so all
 * three are added, and the reads are also reported as `cachedInputTokens`.
 */
export function toUsage(counts: AnthropicTokenCounts): UsageV1 {
  const cacheRead = counts.cache_read_input_tokens ?? 0;
  const usage: UsageV1 = {
    inputTokens: (counts.input_tokens ?? 0) + cacheRead + (counts.cache_creation_input_tokens ?? 0),
    outputTokens: counts.output_tokens,
  };
  if (counts.cache_read_input_tokens !== null) usage.cachedInputTokens = cacheRead;
  return usage;
}
