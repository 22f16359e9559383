/**
 * The simulator script of a model that does the user's task: the next planned call it has not
 * made yet, then a short answer. A refused call counts as made, so a model told "no" moves on to
 * the rest of the task instead of asking again.
 */
import { canonicalJson } from '../../src/journal/index.ts';
import type { SimulatorScript } from '../../src/models/index.ts';
import type { JsonValue } from '../../src/spec/index.ts';

export interface PlannedCall {
  toolName: string;
  input: JsonValue;
}

function callKey(toolName: string, input: JsonValue): string {
  return `${toolName}\u0000${canonicalJson(input)}`;
}

export function planScript(plan: readonly PlannedCall[]): SimulatorScript {
  return ({ request }) => {
    const done = new Set<string>();
    for (const message of request.messages) {
      if (message.role !== 'assistant') continue;
      for (const part of message.content) if (part.type === 'tool-call') done.add(callKey(part.toolName, part.input));
    }
    const next = plan.find((step) => !done.has(callKey(step.toolName, step.input)));
    if (next !== undefined) return { type: 'tool-calls', calls: [{ toolName: next.toolName, input: next.input }] };
    return { type: 'text', text: `Done: ${plan.map((step) => step.toolName).join(', ') || 'nothing to do'}.` };
  };
}
