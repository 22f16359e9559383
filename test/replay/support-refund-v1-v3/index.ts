// Versions 1 to 3 of the demo's `support-refund` task, exactly as they were written (hand-written
// tasks on RunContext, before the agent loop), kept only so the journals they recorded
// (test/replay/fixtures) keep replaying byte for byte. Version 4 is examples/support-refund.
// Frozen: changing what these build changes what their runs replay against.
export { PaymentsLedger } from './payments-ledger.ts';
export { supportRefundVersions1To3 } from './versions-1-to-3.ts';
