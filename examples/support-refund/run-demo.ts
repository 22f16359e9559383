import type { AgentOutput, Keel, RunOutcome } from 'keel';
import type { SupportAnswer } from './answer-contract.ts';
import { shopTenant } from './orders.ts';
import { supportRefundTask } from './support-agent.ts';

/** What customers write in the demo: one request for each way a run can end. */
export const demoRequests: readonly { customer: string; message: string }[] = [
  { customer: 'user:maya', message: "Hi, the jacket from order A-1001 doesn't fit. Can I get a refund?" },
  { customer: 'user:tom', message: 'I would like to return the lamp from order A-1002.' },
  { customer: 'user:lena', message: 'Please refund order A-1003, the sofa arrived damaged.' },
  { customer: 'user:ravi', message: 'My headphones from order A-1004 stopped working. Refund please.' },
  { customer: 'user:sofia', message: 'Refund order A-1005 please, wrong colour.' },
];

/** One demo run, as the `keel demo` command prints it. */
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

/**
 * Runs the five customer messages through `support-refund`, one after the other, on a Keel that
 * serves it. They end ok (refunded), ok (outside the policy's window: no refund), waiting (a refund
 * above the approval limit, for a support lead), degraded (no policy for the category: the
 * general one applied, marked unsure) and failed (the payments API is down).
 */
export async function runDemo(keel: Keel): Promise<DemoRun[]> {
  const runs: DemoRun[] = [];
  for (const request of demoRequests) {
    const began = performance.now();
    const outcome = await keel.run(supportRefundTask, { message: request.message }, { principal: request.customer, tenant: shopTenant });
    const durationMs = Math.round(performance.now() - began);
    const record = await keel.store.getRun(outcome.runId);
    const answer = (outcome.output as AgentOutput | undefined)?.output as SupportAnswer | null | undefined;
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
