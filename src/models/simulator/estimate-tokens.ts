/**
 * A labelled estimate (about four characters a token for English and JSON). The model-call path
 * gets real tokenizers with the cost component; the simulator only needs plausible, stable counts.
 */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
