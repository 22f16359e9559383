import type { ScriptInput, SimulatedTurn, SimulatorScript } from '../models/index.ts';
import { echoScript, sampleFromSchema } from '../models/index.ts';

/**
 * What `sim:` models do behind the gateway, where a client's tools are the only scenario there is:
 * a conversation that ends with the user's message and offers tools gets a call of the tool that
 * `tool_choice` names (else the first), with arguments drawn from its schema (seeded, so the same
 * conversation gets the same call); a conversation that ends with tool results gets a text answer
 * quoting them; anything else is acknowledged, as the simulator's default script does.
 */
export const gatewaySimulatorScript: SimulatorScript = (input: ScriptInput): SimulatedTurn => {
  const { request, random } = input;
  const last = request.messages.at(-1);
  const tools = request.tools ?? [];
  const choice = request.toolChoice;
  if (last?.role === 'user' && tools.length > 0 && choice !== 'none') {
    const named = typeof choice === 'object' ? tools.find((tool) => tool.name === choice.toolName) : undefined;
    const tool = named ?? tools[0];
    if (tool !== undefined) return { type: 'tool-calls', calls: [{ toolName: tool.name, input: sampleFromSchema(tool.inputSchema, random) }] };
  }
  if (last?.role === 'tool') {
    const results = last.content.map((part) => `${part.toolName} returned ${typeof part.output === 'string' ? part.output : JSON.stringify(part.output)}`);
    return { type: 'text', text: `Done: ${results.join('; ').slice(0, 400)}` };
  }
  return echoScript(input);
};
