import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { defineTool } from 'keel';
import type { AgentTool, JsonValue, ResolvedResource, ToolAccessV1 } from 'keel';
import { dollars, orders } from './orders.ts';
import type { Payments } from './payments-ledger.ts';

/** Refunds above this wait for a support lead: enforced by the tool's approval rule, not left to the model. */
export const autoApprovalLimitCents = 50_000;

/** The refund policy documents the agent reads (Markdown, one per product category). */
export const refundPoliciesFolder = join(import.meta.dirname, 'refund-policies');

/** The policy that applies to every order no category policy covers. */
export const generalPolicyDocument = 'refunds-general.md';

const orderSchema = z.object({
  id: z.string(),
  tenant: z.string(),
  customerId: z.string(),
  customerName: z.string(),
  category: z.enum(['apparel', 'electronics', 'home']),
  totalCents: z.number().int(),
  deliveredDaysAgo: z.number().int(),
});

export type OrderRecord = z.output<typeof orderSchema>;

const policySchema = z.object({
  document: z.string(),
  /** False when no policy names the category and the general one stands in for it. */
  specific: z.boolean(),
  text: z.string(),
});

export type PolicyRecord = z.output<typeof policySchema>;

const refundSchema = z.object({ refundId: z.string(), orderId: z.string(), amountCents: z.number().int() });

/**
 * The order a call names, as Cedar sees it: its tenant (a call on another tenant's order never
 * runs), the customer who may act on it and its total. Undefined for an order that does not exist.
 */
function orderResource(args: Record<string, JsonValue>): ResolvedResource | undefined {
  const order = typeof args.orderId === 'string' ? orders.get(args.orderId) : undefined;
  if (order === undefined) return undefined;
  return {
    type: 'Order',
    id: order.id,
    tenant: order.tenant,
    attributes: { tenant: order.tenant, customer: { __entity: { type: 'User', id: order.customerId } }, totalCents: order.totalCents },
  };
}

/** A tool with how the agent loop governs it beyond the tool's own declaration. */
function governed<Input, Output>(tool: ReturnType<typeof defineTool<Input, Output>>, access: ToolAccessV1): AgentTool {
  return Object.assign(tool as AgentTool, { access });
}

const lookupOrder = governed(
  defineTool({
    name: 'lookup_order',
    version: '1',
    owner: 'support-team',
    description: 'Look an order up by its id (it looks like A-1234). Returns null when there is no such order.',
    inputSchema: z.object({ orderId: z.string() }),
    outputSchema: orderSchema.nullable(),
    scopes: ['orders:read'],
    sideEffect: 'read',
    timeoutMs: 2_000,
    execute: ({ orderId }) => orders.get(orderId) ?? null,
  }),
  {
    resource: orderResource,
    action: 'read-order',
    // The order system is the shop's own record: its values may choose a refund's order and amount.
    resultLabels: () => ({ classification: 'personal', origins: ['system'] }),
  },
);

const readPolicy = governed(
  defineTool({
    name: 'read_policy',
    version: '1',
    owner: 'support-team',
    description: "Read the refund policy for a product category (the order's `category`).",
    inputSchema: z.object({ category: z.string() }),
    outputSchema: policySchema,
    scopes: ['policies:read'],
    sideEffect: 'read',
    timeoutMs: 2_000,
    execute: ({ category }) => readRefundPolicy(category),
  }),
  { resultLabels: () => ({ classification: 'internal', origins: ['system'] }) },
);

/** The category's policy document, or the general one when no document names the category. */
export function readRefundPolicy(category: string): PolicyRecord {
  const specific = /^[a-z-]+$/.test(category) ? `refunds-${category}.md` : undefined;
  const document = specific !== undefined && existsSync(join(refundPoliciesFolder, specific)) ? specific : generalPolicyDocument;
  return { document, specific: document === specific, text: readFileSync(join(refundPoliciesFolder, document), 'utf8') };
}

/** The tools of the support agent; refunds go to `payments`. */
export function supportTools(payments: Payments): AgentTool[] {
  const issueRefund = governed(
    defineTool({
      name: 'issue_refund',
      version: '1',
      owner: 'payments-team',
      description: 'Refund an order to its original payment method, in cents. Never more than the order total.',
      inputSchema: z.object({ orderId: z.string(), amountCents: z.number().int().positive() }),
      outputSchema: refundSchema,
      scopes: ['refunds:write'],
      // Money sent cannot be called back; the payments system deduplicates on the key, so a retry after a crash pays nothing twice.
      sideEffect: 'irreversible',
      deduplicatesOnKey: true,
      timeoutMs: 5_000,
      approval: {
        when: ({ orderId, amountCents }) =>
          amountCents > autoApprovalLimitCents
            ? `refund of ${dollars(amountCents)} for order ${orderId} exceeds the ${dollars(autoApprovalLimitCents)} auto-approval limit; a support lead must approve it`
            : undefined,
      },
      execute: ({ orderId, amountCents }, { idempotencyKey }) => payments.refund(orderId, amountCents, idempotencyKey),
    }),
    {
      resource: orderResource,
      action: 'issue-refund',
      policyContext: (args) => ({ amountCents: args.amountCents ?? null }),
      // Only the shop's own records may choose which order is refunded and how much: never text a customer or a document planted.
      sensitiveArgs: ['orderId', 'amountCents'],
    },
  );
  return [lookupOrder, readPolicy, issueRefund];
}
