import type { RunOutcome } from '../engine/index.ts';
import { BudgetLedger, defaultPriceTable } from '../cost/index.ts';
import { Engine } from '../engine/index.ts';
import { SharedGuards } from '../models/index.ts';
import type { StoreV1 } from '../spec/index.ts';
import type { PaymentsLedger } from './payments-ledger.ts';
import { supportAgentTask } from './support-agent-task.ts';
import type { SupportGovernance, SupportTaskOptions } from './support-agent-task.ts';
import type { SupportAnswer, SupportRequest } from './support-agent-task.ts';

/** What customers write in the demo: one request for each way a run can end. */
export const demoRequests: { customer: string; message: string }[] = [
  { customer: 'user:maya', message: "Hi, the jacket from order A-1001 doesn't fit. Can I get a refund?" },
  { customer: 'user:tom', message: 'I would like to return the lamp from order A-1002.' },
  { customer: 'user:lena', message: 'Please refund order A-1003, the sofa arrived damaged.' },
  { customer: 'user:ravi', message: 'My headphones from order A-1004 stopped working. Refund please.' },
  { customer: 'user:sofia', message: 'Refund order A-1005 please, wrong colour.' },
];

export interface DemoRun {
  id: string;
  task: string;
  status: RunOutcome['status'];
  customer: string;
  answer: string | null;
  refundId: string | null;
  refundCents: number | null;
  reason: string | null;
  confidence: RunOutcome['confidence'];
  steps: number;
  tokens: number;
  costMicros: number;
  durationMs: number;
}

/** Without a config file the demo runs under list prices, a 5-cent ceiling per run, shared breakers. */
export function defaultDemoGovernance(environment?: Record<string, string | undefined>): SupportGovernance {
  const governance: SupportGovernance = { prices: defaultPriceTable, guards: new SharedGuards(), ledger: new BudgetLedger([{ scope: 'run', micros: 50_000 }]) };
  if (environment !== undefined) governance.environment = environment;
  return governance;
}

/** Every version of the demo's task, the current one last: new runs start on version 3. */
export function demoTasks(ledger: PaymentsLedger, governance: SupportGovernance = defaultDemoGovernance(), options: SupportTaskOptions = {}) {
  return [supportAgentTask(ledger, governance, '1'), supportAgentTask(ledger, governance, '2'), supportAgentTask(ledger, governance, '3', options)];
}

export async function runDemo(options: {
  store: StoreV1;
  ledger: PaymentsLedger;
  model: string;
  seed: number;
  tenant?: string;
  governance?: SupportGovernance;
  task?: SupportTaskOptions;
}): Promise<DemoRun[]> {
  const engine = new Engine({ store: options.store, tasks: demoTasks(options.ledger, options.governance, options.task) });
  const runs: DemoRun[] = [];
  for (const request of demoRequests) {
    const began = performance.now();
    const input: SupportRequest = { message: request.message, model: options.model, seed: options.seed };
    const outcome = await engine.start('support-refund', input, { principal: request.customer, tenant: options.tenant ?? 'acme-shop' });
    const durationMs = Math.round(performance.now() - began);
    const record = await options.store.getRun(outcome.runId);
    const answer = outcome.output as SupportAnswer | undefined;
    runs.push({
      id: outcome.runId,
      task: outcome.task,
      status: outcome.status,
      customer: request.customer,
      answer: answer?.answer ?? null,
      refundId: answer?.refundId ?? null,
      refundCents: answer?.refundCents ?? null,
      reason: outcome.reason ?? null,
      confidence: outcome.confidence,
      steps: record?.stepCount ?? 0,
      tokens: (record?.inputTokens ?? 0) + (record?.outputTokens ?? 0),
      costMicros: record?.costMicros ?? 0,
      durationMs,
    });
  }
  return runs;
}
