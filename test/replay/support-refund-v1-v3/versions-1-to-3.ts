import { BudgetLedger, defaultPriceTable } from '../../../src/cost/index.ts';
import { SharedGuards } from '../../../src/models/index.ts';
import type { PaymentsLedger } from './payments-ledger.ts';
import type { SupportGovernance } from './support-agent-task.ts';
import { supportAgentTask } from './support-agent-task.ts';

/**
 * Versions 1 to 3 of `support-refund` under the governance they ran with by default (list
 * prices, a 5-cent ceiling per run). A replay calls no model and no tool, so the ledger is only
 * what the tasks were built with.
 */
export function supportRefundVersions1To3(ledger: PaymentsLedger) {
  const governance: SupportGovernance = { prices: defaultPriceTable, guards: new SharedGuards(), ledger: new BudgetLedger([{ scope: 'run', micros: 50_000 }]) };
  return [supportAgentTask(ledger, governance, '1'), supportAgentTask(ledger, governance, '2'), supportAgentTask(ledger, governance, '3')];
}
