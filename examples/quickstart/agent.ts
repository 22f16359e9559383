// A governed agent in one file: a read tool, a side-effecting tool, a Cedar policy, a run budget
// and an output contract, on Keel's deterministic simulator. Run: node agent.ts
import { z } from 'zod';
import { CedarPolicyEngine, createKeel, defineAgent, defineOutputContract, defineTool } from 'keel';
import type { ScriptInput, SimulatedTurn } from 'keel';

const orders: Record<string, { id: string; totalCents: number }> = { 'A-1001': { id: 'A-1001', totalCents: 4999 } };
const refunds = new Map<string, number>(); // by idempotency key: a retried refund is not paid twice

const lookupOrder = defineTool({
  name: 'lookup_order', version: '1', owner: 'quickstart', description: 'Look an order up by its id.',
  inputSchema: z.object({ orderId: z.string() }),
  outputSchema: z.object({ id: z.string(), totalCents: z.number().int() }).nullable(),
  scopes: ['orders:read'], sideEffect: 'read', timeoutMs: 2_000,
  execute: ({ orderId }) => orders[orderId] ?? null,
});

const issueRefund = defineTool({
  name: 'issue_refund', version: '1', owner: 'quickstart', description: 'Refund an order, in cents.',
  inputSchema: z.object({ orderId: z.string(), amountCents: z.number().int().positive() }),
  outputSchema: z.object({ refundId: z.string() }),
  scopes: ['refunds:write'], sideEffect: 'write', deduplicatesOnKey: true, timeoutMs: 2_000,
  execute: ({ amountCents }, { idempotencyKey }) => {
    refunds.set(idempotencyKey, amountCents);
    return { refundId: `rf-${refunds.size}` };
  },
});

// Who may call which tool: customers may not trigger irreversible effects.
const policies = CedarPolicyEngine.fromSources({
  schema: { path: 'keel.cedarschema', text: `entity User { tenant: String }; entity Tool { sideEffect: String, labels: Set<String> };
    action "call-tool" appliesTo { principal: [User], resource: [Tool], context: { task: String, tenant: String } };` },
  policies: [{ path: 'tools.cedar', text: `@id("reversible-tools") permit (principal, action == Action::"call-tool", resource) when { resource.sideEffect != "irreversible" };` }],
});

// The simulator's scenario: look the order up, refund it, then answer with the contract's JSON.
function script({ request }: ScriptInput): SimulatedTurn {
  const results = request.messages.filter((message) => message.role === 'tool').length;
  if (results === 0) return { type: 'tool-calls', calls: [{ toolName: 'lookup_order', input: { orderId: 'A-1001' } }] };
  if (results === 1) return { type: 'tool-calls', calls: [{ toolName: 'issue_refund', input: { orderId: 'A-1001', amountCents: 4999 } }] };
  return { type: 'text', text: JSON.stringify({ answer: 'Order A-1001 is refunded in full.', refundCents: 4999 }) };
}

const refundAgent = defineAgent({
  name: 'refund-agent', version: '1', model: 'sim:default',
  instructions: 'You are a support agent. Look the order up and refund it only up to its total.',
  tools: [lookupOrder, issueRefund],
  policies,
  output: defineOutputContract({ name: 'refund-answer', version: '1', schema: z.object({ answer: z.string().min(1), refundCents: z.number().int().min(0) }) }),
  limits: { budgetMicros: 50_000, maxTurns: 6 },
  simulator: { script },
});

const keel = await createKeel({ database: process.env.KEEL_DB ?? '.keel/quickstart.db', agents: [refundAgent] });
try {
  const run = await keel.run('refund-agent', { message: 'Please refund order A-1001.' }, { principal: 'ada', tenant: 'acme' });
  console.log(JSON.stringify({ id: run.runId, status: run.status, ...(run.reason === undefined ? {} : { reason: run.reason }) }));
  process.exitCode = run.status === 'ok' || run.status === 'degraded' ? 0 : 1;
} finally {
  await keel.close();
}
