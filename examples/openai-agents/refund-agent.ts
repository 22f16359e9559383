// The OpenAI Agents SDK's own loop (an Agent with two tools, run by its Runner) as one governed,
// durable Keel run: Keel is the model provider, so every model call is a journaled, priced step
// under a run budget; every tool call is decided by a Cedar policy before it runs and gets an
// idempotency key; the SDK's spans land in the run's journal. On Keel's simulator. Run: node refund-agent.ts
import { Agent, Runner, setTraceProcessors, tool } from '@openai/agents';
import { z } from 'zod';
import { CedarPolicyEngine, createKeel, defineTask } from 'keel';
import type { ScriptInput, SimulatedTurn } from 'keel';
import { governTools, idempotencyKeyOf, KeelTraceProcessor, keelModelProvider, throwIfRunInterrupted } from 'keel/openai-agents';

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

// The simulator's scenario: look the order up, refund it, then answer (saying so when Keel refused the refund).
function script({ request }: ScriptInput): SimulatedTurn {
  const results = request.messages.flatMap((message) => (message.role === 'tool' ? message.content : []));
  if (results.some((part) => JSON.stringify(part.output).includes('Keel refused'))) return { type: 'text', text: 'I could not refund A-1001: the refund was refused.' };
  if (results.length === 0) return { type: 'tool-calls', calls: [{ toolName: 'lookup_order', input: { orderId: 'A-1001' } }] };
  if (results.length === 1) return { type: 'tool-calls', calls: [{ toolName: 'issue_refund', input: { orderId: 'A-1001', amountCents: 4999 } }] };
  return { type: 'text', text: 'Order A-1001 is refunded in full.' };
}

// The SDK's spans go to the journal of the Keel run they belong to (instead of OpenAI's trace exporter).
setTraceProcessors([new KeelTraceProcessor()]);

const keel = await createKeel({
  database: process.env.KEEL_DB ?? '.keel/openai-agents.db',
  config: { version: 1, routes: [], budgets: [{ scope: 'run', micros: 50_000 }] },
});

keel.engine.tasks.register(defineTask({
  name: 'openai-agents-refund', version: '1',
  run: async (context, input: { message: string }) => {
    const tools = governTools([
      tool({
        name: 'lookup_order', description: 'Look an order up by its id.', parameters: z.object({ orderId: z.string() }),
        execute: ({ orderId }) => ({ orderId, totalCents: 4999 }),
      }),
      tool({
        name: 'issue_refund', description: 'Refund an order, in cents.', parameters: z.object({ orderId: z.string(), amountCents: z.number().int().positive() }),
        execute: ({ amountCents }, _runContext, details) => {
          refunds.set(idempotencyKeyOf(details), amountCents);
          return { refundId: `rf-${refunds.size}` };
        },
      }),
    ], { run: context, runtime: keel.runtime, policies, declarations: { lookup_order: { sideEffect: 'read' }, issue_refund: { sideEffect: 'write', deduplicatesOnKey: true } } });
    const agent = new Agent({ name: 'Refunds', instructions: 'You refund orders.', model: 'sim:default', tools });
    const runner = new Runner({ modelProvider: keelModelProvider({ run: context, runtime: keel.runtime, simulator: { script } }) });
    // A stop of the run inside a tool (an approval wait) reaches the SDK as a failed tool call: give the engine what stopped it.
    const result = await runner.run(agent, input.message, { maxTurns: 5 }).finally(() => throwIfRunInterrupted(context));
    return { text: String(result.finalOutput), turns: result.rawResponses.length };
  },
}));

try {
  const results = [];
  for (const principal of ['ada', 'guest']) {
    const run = await keel.run('openai-agents-refund', { message: 'Please refund order A-1001.' }, { principal, tenant: 'acme' });
    const record = await keel.store.getRun(run.runId);
    const spans = (await keel.store.readJournal(run.runId)).filter((event) => event.type === 'span-end').length;
    results.push({ principal, id: run.runId, status: run.status, output: run.output ?? null, costMicros: record?.costMicros ?? null, spans });
  }
  console.log(JSON.stringify({ runs: results, refunds: refunds.size }));
  process.exitCode = results.every((run) => run.status === 'ok') && refunds.size === 1 ? 0 : 1;
} finally {
  await keel.close();
}
