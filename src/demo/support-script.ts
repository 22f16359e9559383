import type { JsonValue, MessageV1, ToolResultPartV1 } from '../spec/index.ts';
import type { SimulatorScript } from '../models/index.ts';
import type { OrderLookup, PolicyDocument } from './support-tools.ts';

function toolResult(messages: MessageV1[], toolName: string): ToolResultPartV1 | undefined {
  for (const message of messages) {
    if (message.role !== 'tool') continue;
    const part = message.content.find((candidate) => candidate.toolName === toolName);
    if (part !== undefined) return part;
  }
  return undefined;
}

function dollars(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}

/**
 * How the simulated support model behaves: look the order up, read the policy that applies,
 * and refund when the policy's window allows it. It reads the window from the policy text, so a
 * different document gives a different decision, as it would with a real model.
 */
export const supportScript: SimulatorScript = ({ request, random }) => {
  const { messages } = request;
  const user = messages.find((message) => message.role === 'user');
  const userText = user?.role === 'user' ? user.content.map((part) => part.text).join(' ') : '';
  const orderId = /\b([A-Z]-\d{4})\b/.exec(userText)?.[1];
  if (orderId === undefined) return { type: 'text', text: 'Could you tell me your order number (it looks like A-1234)?' };

  const lookup = toolResult(messages, 'lookup_order');
  if (lookup === undefined) return { type: 'tool-calls', text: 'Let me look that order up.', calls: [{ toolName: 'lookup_order', input: { orderId } }] };
  const found = lookup.output as unknown as OrderLookup;
  if (!found.found) return { type: 'text', text: `I could not find order ${orderId}. Please check the number.` };
  const order = found.order;

  const policyResult = toolResult(messages, 'read_policy');
  if (policyResult === undefined) {
    return { type: 'tool-calls', calls: [{ toolName: 'read_policy', input: { category: order.category } }] };
  }
  const policy = policyResult.output as unknown as PolicyDocument;
  const windowDays = Number(/within (\d+) days/.exec(policy.text)?.[1] ?? 0);

  const refundResult = toolResult(messages, 'issue_refund');
  if (refundResult === undefined) {
    if (order.deliveredDaysAgo > windowDays) {
      return {
        type: 'text',
        text: `I'm sorry, ${order.customer.split(' ')[0]}: order ${order.id} was delivered ${order.deliveredDaysAgo} days ago, and our policy allows refunds within ${windowDays} days, so I can't refund it.`,
      };
    }
    const input: JsonValue = { orderId: order.id, amountCents: order.totalCents };
    return { type: 'tool-calls', calls: [{ toolName: 'issue_refund', input }] };
  }
  if (refundResult.isError === true) return { type: 'text', text: `I couldn't issue the refund for ${order.id}; a colleague will follow up.` };
  const refund = refundResult.output as { refundId: string };
  const closings = ['It should reach you in 3-5 business days.', 'You will see it on your statement within a week.'];
  return {
    type: 'text',
    text: `Done: refund ${refund.refundId} of ${dollars(order.totalCents)} for order ${order.id} is on its way. ${closings[Math.floor(random() * closings.length)]}`,
  };
};
