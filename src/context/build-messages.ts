import type { MessageV1 } from '../spec/index.ts';
import type { Candidate } from './candidate.ts';
import { toolResultPart } from './candidate.ts';

/**
 * One message an item. Merging neighbours would make an item's cost depend on what survives next
 * to it; one message each keeps every cost fixed, so budgets are exact. Adapters merge same-role
 * turns where a provider requires it (Anthropic joins system messages and alternates turns).
 */
export function toMessage(candidate: Candidate): MessageV1 {
  switch (candidate.role) {
    case 'system':
      return { role: 'system', content: candidate.text };
    case 'user':
      return { role: 'user', content: [{ type: 'text', text: candidate.text }] };
    case 'assistant':
      return { role: 'assistant', content: [{ type: 'text', text: candidate.text }] };
    case 'tool':
      return { role: 'tool', content: [toolResultPart(candidate.item, candidate.text)] };
  }
}
