import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeelError } from '../../../src/errors/index.ts';
import { sha256 } from '../../../src/journal/index.ts';
import type { ToolDefinitionV1 } from '../../../src/spec/index.ts';
import type { Order } from './orders.ts';
import { orders, paymentsOutageOrders } from './orders.ts';
import type { PaymentsLedger, Refund } from './payments-ledger.ts';

export const policiesFolder = join(import.meta.dirname, 'policies');

/** Refunds above this need a support lead; enforced by the task, not left to the model. */
export const autoApprovalLimitCents = 50_000;

export const supportToolDefinitions: ToolDefinitionV1[] = [
  {
    name: 'lookup_order',
    description: 'Look up an order by id.',
    inputSchema: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'], additionalProperties: false },
  },
  {
    name: 'read_policy',
    description: 'Read the refund policy that applies to a product category.',
    inputSchema: { type: 'object', properties: { category: { type: 'string' } }, required: ['category'], additionalProperties: false },
  },
  {
    name: 'issue_refund',
    description: 'Refund an order to its original payment method.',
    inputSchema: {
      type: 'object',
      properties: { orderId: { type: 'string' }, amountCents: { type: 'integer', minimum: 1 } },
      required: ['orderId', 'amountCents'],
      additionalProperties: false,
    },
  },
];

export type OrderLookup = { found: true; order: Order } | { found: false; orderId: string };

export function lookupOrder(orderId: string): OrderLookup {
  const order = orders[orderId];
  return order === undefined ? { found: false, orderId } : { found: true, order };
}

export interface PolicyDocument {
  /** True when a policy for the category exists; false when the general policy stands in. */
  specific: boolean;
  document: string;
  /** Content hash: which exact text the model read. */
  version: string;
  text: string;
}

/** The policy that applies to every order a category policy does not cover. */
export const generalPolicyDocument = 'refunds-general.md';

// The `updated:` block the retriever reads for a document's age (see src/context's front matter).
const frontMatter = /^---\r?\n[\s\S]*?\r?\n---[ \t]*(?:\r?\n|$)/;

/**
 * The policy for a category, as the `read_policy` tool returns it: the document without its front
 * matter, which is metadata for the retriever, not policy. Versions 1 and 2 read exactly these
 * bytes before the front matter was added, so their recorded runs replay unchanged.
 */
export function readPolicy(category: string): PolicyDocument {
  const specific = /^[a-z-]+$/.test(category) ? `refunds-${category}.md` : undefined;
  for (const [document, isSpecific] of [[specific, true], [generalPolicyDocument, false]] as const) {
    if (document === undefined) continue;
    try {
      const text = readFileSync(join(policiesFolder, document), 'utf8').replace(frontMatter, '');
      return { specific: isSpecific, document, version: sha256(text).slice(0, 16), text };
    } catch {
      // Fall through to the general policy.
    }
  }
  throw new KeelError('tool-error', 'the refund policy documents are missing');
}

export function issueRefund(ledger: PaymentsLedger, orderId: string, amountCents: number, idempotencyKey: string): Refund {
  if (paymentsOutageOrders.has(orderId)) {
    throw new KeelError('tool-error', `payments API unavailable for order ${orderId} (HTTP 503)`, { retryable: true });
  }
  return ledger.refund(orderId, amountCents, idempotencyKey);
}
