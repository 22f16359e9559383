/**
 * What a journal bills (journalBilling): a reservation is billed by its step's end in the execution
 * that reserved it, or by a reservation-bill; a redone step's end does not bill the reservation of
 * the attempt a dead process left, so a second takeover bills each dead execution's reservation
 * once and never the live attempt's own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventData, EventType, JournalEvent } from '../journal/index.ts';
import { genesisHash, sealEvent } from '../journal/index.ts';
import { journalBilling } from './left-reservations.ts';

function journal(...entries: { [Type in EventType]: [Type, EventData[Type]] }[EventType][]): JournalEvent[] {
  const events: JournalEvent[] = [];
  let previous: JournalEvent = sealEvent({ runId: 'run_billing', seq: 1, prevHash: genesisHash }, 'run-start', { task: 't', taskVersion: '1', input: null, principal: 'p', tenant: 't', configHash: 'h', config: null });
  events.push(previous);
  for (const [type, data] of entries) {
    previous = sealEvent({ runId: 'run_billing', seq: previous.seq + 1, prevHash: previous.hash }, type, data as never);
    events.push(previous);
  }
  return events;
}

const resume = (attempt: number) => ['run-resume', { worker: `w-${attempt}`, attempt, found: attempt === 1 ? 'new' : 'interrupted' }] as ['run-resume', EventData['run-resume']];
const start = (step: number, attempt = 1) => ['step-start', { step, name: 'chat', kind: 'model-call', idempotent: true, attempt, epoch: 0 }] as ['step-start', EventData['step-start']];
const decision = (step: number, reservationId: string) =>
  ['budget-decision', { step, provider: 'sim', modelId: 'fast', outcome: 'reserved', reservedMicros: 500, reservedTokens: 50, reservationId }] as ['budget-decision', EventData['budget-decision']];
const end = (step: number, micros: number) =>
  ['step-end', { step, name: 'chat', kind: 'model-call', epoch: 0, durationMs: 1, outcome: { ok: true, value: null }, cost: { micros, priceVersion: 'p' } }] as ['step-end', EventData['step-end']];
const bill = (reservationId: string) =>
  ['reservation-bill', { reservationId, step: 1, from: 'reservation', cost: { micros: 500, priceVersion: 'budget-book' }, tokens: 50, reason: 'test' }] as ['reservation-bill', EventData['reservation-bill']];

const view = (billing: ReturnType<typeof journalBilling>) => ({ billed: [...billing.billed].sort(), unbilled: [...billing.unbilled] });

test('a call whose step ended in the execution that reserved it is billed; one a dead execution left open is not', () => {
  assert.deepEqual(view(journalBilling(journal(resume(1), start(1), decision(1, 'r1'), end(1, 120), start(2), decision(2, 'r2')))), { billed: ['r1'], unbilled: [['r2', 2]] });
});

test('the redone step\'s end bills the new attempt\'s reservation, not the one the dead execution left', () => {
  assert.deepEqual(view(journalBilling(journal(resume(1), start(1), decision(1, 'r1'), resume(2), start(1, 2), decision(1, 'r2'), end(1, 120)))), { billed: ['r2'], unbilled: [['r1', 1]] });
});

test('a second takeover finds the first takeover\'s bill, and bills only what the second execution left', () => {
  const events = journal(resume(1), start(1), decision(1, 'r1'), resume(2), bill('r1'), start(1, 2), decision(1, 'r2'), resume(3));
  assert.deepEqual(view(journalBilling(events)), { billed: ['r1'], unbilled: [['r2', 1]] });
});

test('refusals and decisions without a reservation id bill nothing and are not left unbilled', () => {
  const refused: ['budget-decision', EventData['budget-decision']] = ['budget-decision', { step: 1, provider: 'sim', modelId: 'fast', outcome: 'refused', reservedMicros: 500, reservedTokens: 50 }];
  const noId: ['budget-decision', EventData['budget-decision']] = ['budget-decision', { step: 2, provider: 'sim', modelId: 'fast', outcome: 'reserved', reservedMicros: 500, reservedTokens: 50 }];
  assert.deepEqual(view(journalBilling(journal(resume(1), start(1), refused, start(2), noId))), { billed: [], unbilled: [] });
});
