import type { JsonValue, MessageV1, ToolResultPartV1 } from '../../../src/spec/index.ts';
import type { SimulatedTurn, SimulatorScript } from '../../../src/models/index.ts';
import type { Order } from './orders.ts';
import { orderHeader } from './support-context.ts';
import type { OrderLookup, PolicyDocument } from './support-tools.ts';
import { dollars } from './dollars.ts';

function toolResult(messages: MessageV1[], toolName: string): ToolResultPartV1 | undefined {
  for (const message of messages) {
    if (message.role !== 'tool') continue;
    const part = message.content.find((candidate) => candidate.toolName === toolName);
    if (part !== undefined) return part;
  }
  return undefined;
}

/** The order the context put on file before the loop (version 3), if any. */
function orderOnFile(messages: MessageV1[]): OrderLookup | undefined {
  for (const message of messages) {
    if (message.role === 'system' && message.content.startsWith(orderHeader)) return { found: true, order: JSON.parse(message.content.slice(orderHeader.length)) as Order };
  }
  return undefined;
}

/** The refund policies retrieved into the context (version 3), by document name. */
function policiesInContext(messages: MessageV1[]): Map<string, string> {
  const documents = new Map<string, string>();
  for (const message of messages) {
    if (message.role !== 'user') continue;
    const text = message.content.map((part) => part.text).join('');
    const header = /^Refund policy document (\S+) \(version \w+\):\n\n/.exec(text);
    if (header?.[1] !== undefined) documents.set(header[1], text.slice(header[0].length));
  }
  return documents;
}

/** The policy the model applies: the category's from the context, else the general one; else what read_policy returned. */
function applicablePolicy(messages: MessageV1[], category: string): PolicyDocument | undefined {
  const documents = policiesInContext(messages);
  for (const [document, specific] of [[`refunds-${category}.md`, true], ['refunds-general.md', false]] as const) {
    const text = documents.get(document);
    if (text !== undefined) return { specific, document, version: '', text };
  }
  const first = [...documents][0];
  if (first !== undefined) return { specific: false, document: first[0], version: '', text: first[1] };
  return toolResult(messages, 'read_policy')?.output as unknown as PolicyDocument | undefined;
}

/**
 * How the simulated support model behaves: look the order up, read the policy that applies,
 * and refund when the policy's window allows it. It reads the window from the policy text, so a
 * different document gives a different decision, as it would with a real model.
 *
 * Asked for JSON (version 3's output contract, as `responseFormat`), it answers with the
 * contract's fields, and its confidence is low when no policy for the order's category was in
 * front of it. Version 3's context already holds the order and the policy, so it skips those tools.
 */
export const supportScript: SimulatorScript = ({ request, random }) => {
  const { messages } = request;
  const structured = request.responseFormat !== undefined;
  const reply = (text: string, facts: { refundCents: number | null; policy: string; confidence: number }): SimulatedTurn =>
    structured ? { type: 'text', text: JSON.stringify({ answer: text, ...facts }) } : { type: 'text', text };
  // The customer's message: the only user message before version 3, the last one since.
  const user = messages.findLast((message) => message.role === 'user');
  const userText = user?.role === 'user' ? user.content.map((part) => part.text).join(' ') : '';
  const orderId = /\b([A-Z]-\d{4})\b/.exec(userText)?.[1];
  if (orderId === undefined) return reply('Could you tell me your order number (it looks like A-1234)?', { refundCents: null, policy: 'none', confidence: 0.9 });

  const lookup = orderOnFile(messages) ?? (toolResult(messages, 'lookup_order')?.output as unknown as OrderLookup | undefined);
  if (lookup === undefined) return { type: 'tool-calls', text: 'Let me look that order up.', calls: [{ toolName: 'lookup_order', input: { orderId } }] };
  if (!lookup.found) return reply(`I could not find order ${orderId}. Please check the number.`, { refundCents: null, policy: 'none', confidence: 0.9 });
  const order = lookup.order;

  const policy = applicablePolicy(messages, order.category);
  if (policy === undefined) {
    return { type: 'tool-calls', calls: [{ toolName: 'read_policy', input: { category: order.category } }] };
  }
  const windowDays = Number(/within (\d+) days/.exec(policy.text)?.[1] ?? 0);
  // Sure when the policy is the category's own; unsure when the general one stands in for it.
  const confidence = policy.specific ? 0.92 : 0.55;
  const caveat = !structured || policy.specific ? '' : ` We have no refund policy for ${order.category} on file, so I applied our general policy; a colleague may review this.`;

  const refundResult = toolResult(messages, 'issue_refund');
  if (refundResult === undefined) {
    if (order.deliveredDaysAgo > windowDays) {
      return reply(
        `I'm sorry, ${order.customer.split(' ')[0]}: order ${order.id} was delivered ${order.deliveredDaysAgo} days ago, and our policy allows refunds within ${windowDays} days, so I can't refund it.${caveat}`,
        { refundCents: null, policy: policy.document, confidence },
      );
    }
    const input: JsonValue = { orderId: order.id, amountCents: order.totalCents };
    return { type: 'tool-calls', calls: [{ toolName: 'issue_refund', input }] };
  }
  if (refundResult.isError === true) return reply(`I couldn't issue the refund for ${order.id}; a colleague will follow up.`, { refundCents: null, policy: policy.document, confidence });
  const refund = refundResult.output as { refundId: string };
  const closings = ['It should reach you in 3-5 business days.', 'You will see it on your statement within a week.'];
  return reply(`Done: refund ${refund.refundId} of ${dollars(order.totalCents)} for order ${order.id} is on its way. ${closings[Math.floor(random() * closings.length)]}${caveat}`, {
    refundCents: order.totalCents,
    policy: policy.document,
    confidence,
  });
};
