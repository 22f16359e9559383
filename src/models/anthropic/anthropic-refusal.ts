import type { RefusalStopDetails } from '@anthropic-ai/sdk/resources/messages';

/**
 * The explanation for a refusal: Anthropic's own when `stop_details` has one, else whatever text
 * the model wrote before it stopped, else a plain statement, so a refusal is never silent.
 */
export function refusalExplanation(details: RefusalStopDetails | null, text: string): string {
  if (details?.explanation) return details.explanation;
  if (text.trim() !== '') return text;
  return details?.category ? `the model declined the request (${details.category})` : 'the model declined the request';
}
