import { loadEncoding } from '../../cost/index.ts';

/**
 * The simulator counts with the o200k tokenizer, the one Keel's cost component counts `sim:`
 * prompts with, so budgets reserve for exactly what the simulator will report.
 */
export function estimateTokens(text: string): number {
  return Math.max(1, loadEncoding('o200k_base').countTokens(text));
}
