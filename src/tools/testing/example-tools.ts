import { z } from 'zod';
import { defineTool } from '../define-tool.ts';
import type { ToolExecutionContextV1 } from '../../spec/index.ts';

/** Refunds above this need a person (cents). */
export const approvalThresholdCents = 50_000;

/** Every execution the example tools saw, for assertions. */
export const executions: { tool: string; args: unknown; context: Omit<ToolExecutionContextV1, 'signal'> }[] = [];

function remember(tool: string, args: unknown, context: ToolExecutionContextV1): void {
  const { signal: _signal, ...rest } = context;
  executions.push({ tool, args, context: rest });
}

export const lookupOrder = defineTool({
  name: 'lookup_order',
  version: '1.0.0',
  owner: 'team-orders',
  description: 'Look up an order by id.',
  inputSchema: z.object({ orderId: z.string().regex(/^A-\d+$/) }).strict(),
  outputSchema: z.object({ orderId: z.string(), status: z.string() }),
  scopes: ['orders:read'],
  sideEffect: 'read',
  timeoutMs: 1_000,
  execute: (args, context) => {
    remember('lookup_order', args, context);
    return { orderId: args.orderId, status: 'delivered' };
  },
});

export const issueRefund = defineTool({
  name: 'issue_refund',
  version: '2.1.0',
  owner: 'team-payments',
  description: 'Refund an order to its original payment method.',
  inputSchema: z.object({ orderId: z.string().min(1), amountCents: z.number().int().positive(), reason: z.string().max(200).optional() }).strict(),
  outputSchema: z.object({ refundId: z.string(), idempotencyKey: z.string() }),
  scopes: ['orders:read', 'payments:refund'],
  sideEffect: 'irreversible',
  deduplicatesOnKey: true,
  timeoutMs: 1_000,
  rateLimit: { perTenant: { limit: 2, windowMs: 60_000 }, perTool: { limit: 3, windowMs: 60_000 } },
  constraints: [
    { id: 'refund-ceiling', check: (args) => args.amountCents <= 1_000_000 || 'refunds above 10,000.00 are never issued by an agent' },
    { id: 'no-test-orders', check: (args) => !args.orderId.startsWith('TEST-') || 'test orders cannot be refunded' },
  ],
  approval: { when: (args) => (args.amountCents > approvalThresholdCents ? `refund of ${(args.amountCents / 100).toFixed(2)} is above ${(approvalThresholdCents / 100).toFixed(2)}` : undefined) },
  execute: (args, context) => {
    remember('issue_refund', args, context);
    return { refundId: `refund-for-${args.orderId}`, idempotencyKey: context.idempotencyKey };
  },
});

export const sendEmail = defineTool({
  name: 'send_email',
  version: '1',
  owner: 'team-comms',
  description: 'Email the customer.',
  inputSchema: z.object({ to: z.email(), subject: z.string().min(1) }),
  outputSchema: z.object({ sent: z.literal(true) }),
  scopes: ['email:send'],
  sideEffect: 'write',
  timeoutMs: 1_000,
  execute: (args, context) => {
    remember('send_email', args, context);
    return { sent: true as const };
  },
});

/** Ignores its signal and never returns: only the timeout ends it. */
export const stuckTool = defineTool({
  name: 'stuck_lookup',
  version: '1',
  owner: 'team-orders',
  description: 'Never answers.',
  inputSchema: z.object({}),
  outputSchema: z.object({}),
  scopes: [],
  sideEffect: 'read',
  timeoutMs: 30,
  execute: () => new Promise<Record<string, never>>(() => undefined),
});

/** Returns what its schema forbids. */
export const sloppyTool = defineTool({
  name: 'sloppy_lookup',
  version: '1',
  owner: 'team-orders',
  description: 'Answers in the wrong shape.',
  inputSchema: z.object({}),
  outputSchema: z.object({ total: z.number() }),
  scopes: [],
  sideEffect: 'read',
  timeoutMs: 1_000,
  execute: () => ({ total: 'lots' }) as unknown as { total: number },
});
