import type { GenerateOptionsV1, JsonValue } from '../../spec/index.ts';

/** What the simulated model does on one call. */
export type SimulatedTurn =
  | { type: 'text'; text: string }
  | { type: 'tool-calls'; calls: { toolName: string; input: JsonValue }[]; text?: string };

export interface ScriptInput {
  request: GenerateOptionsV1;
  /** Seeded from the simulator seed and the conversation: same conversation, same numbers. */
  random: () => number;
  /** 1-based index of this call on this simulator instance. */
  call: number;
}

/**
 * A scenario: given the conversation so far, decide the next turn. Scripts are plain functions
 * of their input, which is what makes the simulator deterministic.
 */
export type SimulatorScript = (input: ScriptInput) => SimulatedTurn;

/** The script used when none is given: answers with a short acknowledgement, never calls tools. */
export const echoScript: SimulatorScript = ({ request }) => {
  const lastUser = request.messages.findLast((message) => message.role === 'user');
  const text = lastUser?.role === 'user' ? lastUser.content.map((part) => part.text).join(' ') : '';
  return { type: 'text', text: `Acknowledged: ${text.slice(0, 200)}` };
};
