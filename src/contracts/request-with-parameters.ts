import type { GenerateOptionsV1, MessageV1 } from '../spec/index.ts';
import type { RetryParameters } from './failure-contract.ts';

/**
 * A model request with a retry's changed parameters applied: its temperature, and its stricter
 * instruction appended to the system prompt (providers take one system prompt, at the start).
 * The model to send it to is the caller's: `parameters.model ?? usualModel`.
 */
export function requestWithParameters(request: GenerateOptionsV1, parameters: RetryParameters): GenerateOptionsV1 {
  let changed = request;
  if (parameters.temperature !== undefined) changed = { ...changed, temperature: parameters.temperature };
  if (parameters.instruction !== undefined) {
    const [first, ...rest] = changed.messages;
    const messages: MessageV1[] =
      first?.role === 'system'
        ? [{ role: 'system', content: `${first.content}\n\n${parameters.instruction}` }, ...rest]
        : [{ role: 'system', content: parameters.instruction }, ...changed.messages];
    changed = { ...changed, messages };
  }
  return changed;
}
