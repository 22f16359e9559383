// A LangChain JS agent (langchain@1 createAgent, with two tools) as one governed, durable Keel run:
// every model call is a journaled, priced step under a run budget; every tool call is decided by a
// Cedar policy before it runs and gets an idempotency key. On Keel's simulator. Run: node refund-agent.ts
import { createAgent, HumanMessage, tool } from 'langchain';
import { z } from 'zod';
import { CedarPolicyEngine, createKeel, defineTask } from 'keel';
import type { ScriptInput, SimulatedTurn } from 'keel';
import { idempotencyKeyOf, keelChatModel, keelMiddleware, runAgentLoop } from 'keel/langchain';

const refunds = new Map<string, number>(); // by idempotency key: a retried refund is not paid twice

// Who may call which tool: nobody may refund for a guest.
const policies = CedarPolicyEngine.fromSources({
  schema: { path: 'keel.cedarschema', text: `entity User { tenant: String }; entity Tool { sideEffect: String, labels: Set<String> };
    action "call-tool" appliesTo { principal: [User], resource: [Tool], context: { task: String, tenant: String } };` },
  policies: [
    { path: 'tools.cedar', text: '@id("tools") permit (principal, action == Action::"call-tool", resource);' },
    { path: 'guests.cedar', text: '@id("no-refunds-for-guests") forbid (principal == User::"guest", action == Action::"call-tool", resource == Tool::"issue_refund");' },
  ],
});

// The simulator's scenario: look the order up, refund it, then answer (saying so when the refund was refused).
function script({ request }: ScriptInput): SimulatedTurn {
  const results = request.messages.filter((message) => message.role === 'tool').length;
  const last = request.messages.at(-1);
  if (last?.role === 'tool' && last.content.some((part) => part.isError === true)) return { type: 'text', text: 'I could not refund A-1001: the refund was refused.' };
  if (results === 0) return { type: 'tool-calls', calls: [{ toolName: 'lookup_order', input: { orderId: 'A-1001' } }] };
  if (results === 1) return { type: 'tool-calls', calls: [{ toolName: 'issue_refund', input: { orderId: 'A-1001', amountCents: 4999 } }] };
  return { type: 'text', text: 'Order A-1001 is refunded in full.' };
}

const lookupOrder = tool(({ orderId }) => ({ orderId, totalCents: 4999 }), {
  name: 'lookup_order', description: 'Look an order up by its id.', schema: z.object({ orderId: z.string() }),
});
const issueRefund = tool(({ amountCents }, config) => {
  refunds.set(idempotencyKeyOf(config), amountCents);
  return { refundId: `rf-${refunds.size}` };
}, { name: 'issue_refund', description: 'Refund an order, in cents.', schema: z.object({ orderId: z.string(), amountCents: z.number().int().positive() }) });

const keel = await createKeel({
  database: process.env.KEEL_DB ?? '.keel/langchain.db',
  config: { version: 1, routes: [], budgets: [{ scope: 'run', micros: 50_000 }] },
});

keel.engine.tasks.register(defineTask({
  name: 'langchain-refund', version: '1',
  run: async (context, input: { message: string }) => {
    const middleware = keelMiddleware({ run: context, runtime: keel.runtime, policies, declarations: { lookup_order: { sideEffect: 'read' }, issue_refund: { sideEffect: 'write', deduplicatesOnKey: true } } });
    const agent = createAgent({ model: keelChatModel('sim:default', { simulator: { script } }), tools: [lookupOrder, issueRefund], middleware: [middleware] });
    // runAgentLoop hands the engine what stopped the run (a budget stop, an approval wait), not LangChain's wrapping of it.
    const result = await runAgentLoop(context, () => agent.invoke({ messages: [new HumanMessage(input.message)] }));
    return { text: result.messages.at(-1)?.text ?? '', messages: result.messages.length };
  },
}));

try {
  const results = [];
  for (const principal of ['ada', 'guest']) {
    const run = await keel.run('langchain-refund', { message: 'Please refund order A-1001.' }, { principal, tenant: 'acme' });
    const record = await keel.store.getRun(run.runId);
    results.push({ principal, id: run.runId, status: run.status, output: run.output ?? null, costMicros: record?.costMicros ?? null });
  }
  console.log(JSON.stringify({ runs: results, refunds: refunds.size }));
  process.exitCode = results.every((run) => run.status === 'ok') && refunds.size === 1 ? 0 : 1;
} finally {
  await keel.close();
}
