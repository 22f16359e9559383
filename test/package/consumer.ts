/**
 * A user's first program, importing only the package (and zod): copied into an empty project that
 * installed the packed tarball, and run there. In this repo it type-checks against the sources.
 * Usage: node consumer.ts DATABASE_FILE. Prints one JSON line.
 */
import { defineOutputContract, defineTask, defineTool, Engine, KeelError, openStore, SimulatorModel, ToolRegistry } from 'keel';
import type { RunOutcome, SimulatorScript } from 'keel';
import { z } from 'zod';

const database = process.argv[2];
if (database === undefined) throw new Error('usage: node consumer.ts DATABASE_FILE');

const orders: Record<string, number> = { 'A-1001': 4200, 'B-2002': 1500 };

const lookupOrder = defineTool({
  name: 'lookup_order',
  version: '1',
  owner: 'package-test',
  description: 'Finds an order and its total.',
  inputSchema: z.object({ orderId: z.string() }),
  outputSchema: z.object({ orderId: z.string(), totalCents: z.number().int() }),
  scopes: ['orders:read'],
  sideEffect: 'read',
  timeoutMs: 1_000,
  execute: ({ orderId }) => ({ orderId, totalCents: orders[orderId] ?? 0 }),
});
const tools = new ToolRegistry();
tools.register(lookupOrder);

const refundAnswer = defineOutputContract({
  name: 'refund-answer',
  version: '1',
  schema: z.object({ orderId: z.string(), refundCents: z.number().int().min(0) }),
});

// The simulated model refunds the whole order it was shown in the last user message.
const refundEverything: SimulatorScript = ({ request }) => {
  const last = request.messages.findLast((message) => message.role === 'user');
  const order = JSON.parse(last?.role === 'user' ? (last.content[0]?.text ?? '{}') : '{}') as { orderId: string; totalCents: number };
  return { type: 'text', text: JSON.stringify({ orderId: order.orderId, refundCents: order.totalCents }) };
};
const model = new SimulatorModel({ seed: 7, script: refundEverything });

const refund = defineTask({
  name: 'refund',
  version: '1',
  async run(context, input: { orderId: string }) {
    const order = await context.tool('lookup_order', input, (args) => ({ orderId: args.orderId, totalCents: orders[args.orderId] ?? 0 }), { idempotent: true });
    const result = await context.model('decide', model, {
      messages: [{ role: 'user', content: [{ type: 'text', text: JSON.stringify(order) }] }],
      responseFormat: { type: 'json', schema: refundAnswer.jsonSchema },
    });
    const text = result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
    const checked = refundAnswer.validateText(text);
    if (!checked.ok) throw new Error(`the answer broke its contract: ${JSON.stringify(checked.violations)}`);
    return checked.value;
  },
});

// Installed, this checks the package's declarations: were they missing or broken, RunOutcome would
// be \`any\` and this line would not be an error.
// @ts-expect-error 'finished' is not a run status
const _notAStatus: RunOutcome['status'] = 'finished';

const store = await openStore({ database, create: true });
const engine = new Engine({ store, tasks: [refund] });
const outcome: RunOutcome = await engine.start('refund', { orderId: 'A-1001' }, { principal: 'package-test', tenant: 'acme' });
const events = (await store.readJournal(outcome.runId)).length;
await store.close();

// Errors from the package are KeelErrors with stable codes, whichever module threw them.
let refused: string | undefined;
try {
  await openStore({ database: 'mysql://nowhere/keel', create: false });
} catch (error) {
  refused = error instanceof KeelError ? error.code : `not a KeelError: ${String(error)}`;
}

process.stdout.write(`${JSON.stringify({ runId: outcome.runId, status: outcome.status, output: outcome.output, events, tools: tools.names(), refused })}\n`);
