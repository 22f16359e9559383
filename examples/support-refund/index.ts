// The support-refund example: a support agent that looks orders up, reads refund policies and
// issues refunds, governed by Keel. `keel demo` runs it; it is also a tasks module:
//   keel --tasks examples/support-refund/index.ts run support-refund --input '{"message": "…"}' --principal user:maya --tenant acme-shop
// Every export that is an agent is served: `supportRefund` (on the simulator; refunds are paid
// beside the run store KEEL_DB names: .keel/demo-payments.db by default, a schema of the same
// database for a postgres:// URL).
import { supportRefundAgent } from './support-agent.ts';

export const supportRefund = supportRefundAgent();

export { supportRefundAgent, supportRefundTask } from './support-agent.ts';
export type { SupportAgentOptions } from './support-agent.ts';
export { demoRequests, runDemo } from './run-demo.ts';
export type { DemoRun } from './run-demo.ts';
export { openPayments, PaymentsLedger, PostgresPayments } from './payments-ledger.ts';
export type { Payments, Refund } from './payments-ledger.ts';
export { minimumAnswerConfidence, supportAnswerContract } from './answer-contract.ts';
export type { SupportAnswer } from './answer-contract.ts';
export { supportScript } from './simulator-script.ts';
export { autoApprovalLimitCents } from './tools.ts';
