import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsonValue } from '../spec/index.ts';
import type { JournalEvent } from './index.ts';
import { canonicalJson, encodeModelRequest, expandModelRequest, foldEvents, genesisHash, sealEvent } from './index.ts';

type Request = { [key: string]: JsonValue };

function journalOf(inputs: JsonValue[]): JournalEvent[] {
  const events: JournalEvent[] = [];
  const push = (make: (position: { runId: string; seq: number; prevHash: string }) => JournalEvent) => {
    events.push(make({ runId: 'run_1', seq: events.length + 1, prevHash: events.at(-1)?.hash ?? genesisHash }));
  };
  push((position) => sealEvent(position, 'run-start', { task: 't', taskVersion: '1', input: null, principal: 'p', tenant: 't', configHash: 'c', config: null }));
  inputs.forEach((input, index) => push((position) => sealEvent(position, 'step-start', { step: index + 1, name: `turn-${index + 1}`, kind: 'model-call', idempotent: true, attempt: 1, epoch: 0, input })));
  return events;
}

test('a continuing request is journaled as a reference plus what is new, and expands back exactly', () => {
  const tools: JsonValue = [{ name: 'lookup_order', description: 'Look up an order', inputSchema: { type: 'object' } }];
  const messages: JsonValue[] = [{ role: 'system', content: 'You are a support agent.' }, { role: 'user', content: [{ type: 'text', text: 'Refund A-1001' }] }];
  const first: Request = { messages: [...messages], tools, maxOutputTokens: 400 };
  const encodedFirst = encodeModelRequest(first, undefined);
  assert.equal(encodedFirst.base, undefined);
  // The agent loop pushes onto its list; the previous request is kept as it was sent.
  messages.push({ role: 'assistant', content: [{ type: 'text', text: 'Let me look.' }] });
  const second: Request = { messages: [...messages], tools, maxOutputTokens: 400 };
  const encodedSecond = encodeModelRequest(second, { step: 1, request: first });
  assert.deepEqual(encodedSecond.base, { step: 1, messages: 2, tools: true });
  assert.deepEqual((encodedSecond.request as Request).messages, [messages[2]]);
  assert.equal((encodedSecond.request as Request).tools, undefined);
  const state = foldEvents(journalOf([{ provider: 'sim', modelId: 'default', ...encodedFirst }, { provider: 'sim', modelId: 'default', ...encodedSecond }] as JsonValue[]));
  assert.equal(canonicalJson(expandModelRequest(state, 2) ?? null), canonicalJson(second));
  assert.equal(canonicalJson(expandModelRequest(state, 1) ?? null), canonicalJson(first));
});

test('a request that shares nothing with the previous one is journaled whole', () => {
  const previous: Request = { messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }] }], tools: [] };
  const next: Request = { messages: [{ role: 'user', content: [{ type: 'text', text: 'b' }] }], tools: [] };
  assert.deepEqual(encodeModelRequest(next, { step: 1, request: previous }), { request: next });
});
