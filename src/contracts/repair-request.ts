import type { GenerateOptionsV1, MessageV1 } from '../spec/index.ts';
import type { ContractViolation } from './contract-violation.ts';
import { formatViolation } from './contract-violation.ts';

/**
 * The re-ask after a violation: the original conversation, the answer that broke the contract as
 * the assistant's turn, then the violations as a user turn. Only the latest answer is included:
 * it is the one to fix, and earlier ones would cost tokens on every repair without helping.
 */
export function repairRequest(
  original: GenerateOptionsV1,
  previousAnswer: string,
  violations: readonly ContractViolation[],
  contract: { name: string; version: string },
): GenerateOptionsV1 {
  const messages: MessageV1[] = [...original.messages];
  // An answer with no text (only tool calls) is not replayed: a tool call with no result after it
  // is an invalid conversation for most providers. The violation says what was missing.
  if (previousAnswer !== '') messages.push({ role: 'assistant', content: [{ type: 'text', text: previousAnswer }] });
  messages.push({ role: 'user', content: [{ type: 'text', text: repairInstruction(violations, contract) }] });
  return { ...original, messages };
}

export function repairInstruction(violations: readonly ContractViolation[], contract: { name: string; version: string }): string {
  return [
    `Your previous answer violated the output contract ${contract.name} (version ${contract.version}):`,
    ...violations.map((violation) => `- ${formatViolation(violation)}`),
    'Reply with corrected JSON only.',
  ].join('\n');
}
