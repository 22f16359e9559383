/**
 * A support agent whose CRM lookup returns personal data about one customer (labelled with that
 * customer as subject), a second lookup about another customer, and an order-status tool whose
 * result is labelled internal and names no one: what redaction must hide, and what it must not.
 */
import { z } from 'zod';
import type { AgentTool } from '../../src/agent/index.ts';
import { defineAgent } from '../../src/agent/index.ts';
import type { ScriptInput, SimulatedTurn } from '../../src/models/index.ts';
import type { JsonValue } from '../../src/spec/index.ts';
import { defineTool } from '../../src/tools/index.ts';

export const secrets = { 'cust-42': 'Ada Lovelace, 12 Marylebone Road, ada.l@mail.example', 'cust-77': 'Alan Turing, 3 Wilmslow Lane, alan.t@mail.example' } as const;
export const publicFact = 'order ORD-1 shipped by parcel service';

const lookup: AgentTool = Object.assign(
  defineTool({
    name: 'lookup_customer',
    version: '1',
    owner: 'tests',
    description: 'The CRM record of a customer.',
    inputSchema: z.object({ customerId: z.enum(['cust-42', 'cust-77']) }),
    outputSchema: z.object({ customerId: z.string(), record: z.string() }),
    scopes: ['crm:read'],
    sideEffect: 'read',
    timeoutMs: 1_000,
    execute: ({ customerId }) => ({ customerId, record: secrets[customerId] }),
  }),
  { access: { resultLabels: (output: JsonValue) => ({ classification: 'personal' as const, origins: ['system' as const], subjects: [String((output as { customerId: string }).customerId)] }) } },
);

const orders: AgentTool = Object.assign(
  defineTool({
    name: 'order_status',
    version: '1',
    owner: 'tests',
    description: 'Where an order is.',
    inputSchema: z.object({ orderId: z.string() }),
    outputSchema: z.object({ status: z.string() }),
    scopes: ['orders:read'],
    sideEffect: 'read',
    timeoutMs: 1_000,
    execute: () => ({ status: publicFact }),
  }),
  { access: { resultLabels: () => ({ classification: 'internal' as const, origins: ['system' as const] }) } },
);

/** Order status first (nobody's data), then the customer's record, then an answer quoting it. */
function script(customerId: string): (input: ScriptInput) => SimulatedTurn {
  return ({ request }) => {
    const results = request.messages.filter((message) => message.role === 'tool').length;
    if (results === 0) return { type: 'tool-calls', calls: [{ toolName: 'order_status', input: { orderId: 'ORD-1' } }] };
    if (results === 1) return { type: 'tool-calls', calls: [{ toolName: 'lookup_customer', input: { customerId } }] };
    return { type: 'text', text: `Shipping to ${secrets[customerId as keyof typeof secrets]}.` };
  };
}

export function supportAgent(name: string, customerId: keyof typeof secrets) {
  return defineAgent({ name, version: '1', model: 'sim:default', instructions: 'Support.', tools: [orders, lookup], simulator: { script: script(customerId) } });
}
