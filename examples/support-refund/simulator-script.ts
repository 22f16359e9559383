import type { JsonValue, MessageV1, ScriptInput, SimulatedTurn } from 'keel';
import { dollars } from './orders.ts';
import type { OrderRecord, PolicyRecord } from './tools.ts';

interface ToolResult {
  output: JsonValue;
  isError: boolean;
}

/** The latest result of a tool in the conversation, if it was called. */
function resultOf(messages: readonly MessageV1[], toolName: string): ToolResult | undefined {
  for (const message of messages.toReversed()) {
    if (message.role !== 'tool') continue;
    const part = message.content.find((candidate) => candidate.toolName === toolName);
    if (part !== undefined) return { output: part.output, isError: part.isError === true };
  }
  return undefined;
}

function errorOf(result: ToolResult): string {
  const output = result.output as { error?: unknown } | null;
  return typeof output?.error === 'string' ? output.error : 'unknown error';
}

const closings = ['It should reach you in 3-5 business days.', 'You will see it on your statement within a week.'];

/**
 * How the simulated support model behaves (for `sim:` models): look the order up, read the
 * policy for its category, and refund when the policy's window allows it, then answer with the
 * output contract's JSON. It reads the window from the policy text, so a different document gives
 * a different decision, as it would with a real model; and it is unsure (confidence 0.55) when
 * the general policy stood in for a category that has none.
 */
export function supportScript({ request, random }: ScriptInput): SimulatedTurn {
  const { messages } = request;
  const reply = (answer: string, facts: { refundId?: string; refundCents?: number; policy: string; confidence: number }): SimulatedTurn => {
    const value = { answer, refundId: facts.refundId ?? null, refundCents: facts.refundCents ?? null, policy: facts.policy, confidence: facts.confidence };
    return { type: 'text', text: request.responseFormat === undefined ? answer : JSON.stringify(value) };
  };
  const call = (toolName: string, input: JsonValue): SimulatedTurn => ({ type: 'tool-calls', calls: [{ toolName, input }] });

  // The customer's message is the first user message (later ones would be repair instructions).
  const customer = messages.find((message) => message.role === 'user');
  const text = customer?.role === 'user' ? customer.content.map((part) => part.text).join(' ') : '';
  const orderId = /\b([A-Z]-\d{4})\b/.exec(text)?.[1];
  if (orderId === undefined) return reply('Could you tell me your order number? It looks like A-1234.', { policy: 'none', confidence: 0.9 });

  const lookup = resultOf(messages, 'lookup_order');
  if (lookup === undefined) return call('lookup_order', { orderId });
  if (lookup.isError) return reply(`I could not look up order ${orderId} for you (${errorOf(lookup)}).`, { policy: 'none', confidence: 0.9 });
  const order = lookup.output as OrderRecord | null;
  if (order === null) return reply(`I could not find order ${orderId}. Please check the number.`, { policy: 'none', confidence: 0.9 });

  const read = resultOf(messages, 'read_policy');
  if (read === undefined) return call('read_policy', { category: order.category });
  if (read.isError) return reply(`I could not read our refund policy just now; a colleague will follow up on order ${order.id}.`, { policy: 'none', confidence: 0.3 });
  const policy = read.output as PolicyRecord;
  const windowDays = Number(/within (\d+) days/.exec(policy.text)?.[1] ?? 0);
  // Sure when the policy is the category's own; unsure when the general one stands in for it.
  const confidence = policy.specific ? 0.92 : 0.55;
  const caveat = policy.specific ? '' : ` We have no refund policy for ${order.category} on file, so I applied our general policy; a colleague may review this.`;
  const firstName = order.customerName.split(' ')[0] ?? order.customerName;

  const refund = resultOf(messages, 'issue_refund');
  if (refund === undefined) {
    if (order.deliveredDaysAgo > windowDays) {
      return reply(
        `I'm sorry, ${firstName}: order ${order.id} was delivered ${order.deliveredDaysAgo} days ago, and our policy allows refunds within ${windowDays} days, so I can't refund it.${caveat}`,
        { policy: policy.document, confidence },
      );
    }
    return call('issue_refund', { orderId: order.id, amountCents: order.totalCents });
  }
  if (refund.isError) return reply(`I couldn't issue the refund for order ${order.id} (${errorOf(refund)}); a colleague will follow up.`, { policy: policy.document, confidence });
  const issued = refund.output as { refundId: string; amountCents: number };
  const closing = closings[Math.floor(random() * closings.length)] ?? '';
  return reply(`Done: refund ${issued.refundId} of ${dollars(issued.amountCents)} for order ${order.id} is on its way. ${closing}${caveat}`, {
    refundId: issued.refundId,
    refundCents: issued.amountCents,
    policy: policy.document,
    confidence,
  });
}
