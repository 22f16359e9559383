/**
 * The internal shape of a gateway call says what it is: an embeddings call carries its values and
 * nothing of a generated answer (no options, no stream), a generate call no values. The checks are
 * tsc's (`tsc --noEmit -p .`): each `@ts-expect-error` line must be an error, or tsc fails.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultPriceTable } from '../cost/index.ts';
import { GovernedModel, resolveModel, SharedGuards } from '../models/index.ts';
import type { GatewayCall } from './gateway-runs.ts';
import type { CatalogModel } from './model-catalog.ts';
import type { NativeCall } from './serve-call.ts';

/** What a call asks for, read only through the fields its kind has. */
function askedFor(call: GatewayCall): string {
  if (call.kind === 'embed') {
    // @ts-expect-error an embeddings call has no generate options to read
    assert.equal(call.options, undefined);
    // @ts-expect-error nor is it streamed
    assert.equal(call.onPart, undefined);
    return `embed ${call.embed.values.length} values`;
  }
  // @ts-expect-error a generate call has no values to embed
  assert.equal(call.embed, undefined);
  return `generate from ${call.options.messages.length} messages`;
}

test('a gateway call is a generate call or an embeddings call, each with only its own fields', () => {
  const model = new GovernedModel({ name: 'sim:default', models: ['sim:default'] }, { prices: defaultPriceTable, guards: new SharedGuards(), resolveModel: (name) => resolveModel(name) });
  const target: CatalogModel = { name: 'sim:default', task: 'gateway:sim:default', model, counting: { provider: 'sim', modelId: 'default' }, route: false };
  const identity = { principal: 'user:ana', tenant: 'acme' };
  const embed: GatewayCall = { kind: 'embed', runId: 'run_a', api: 'openai.embeddings', target, identity, embed: { values: ['first', 'second'] } };
  const generate: GatewayCall = { kind: 'generate', runId: 'run_b', api: 'openai.chat.completions', target, identity, options: { messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }] } };
  assert.equal(askedFor(embed), 'embed 2 values');
  assert.equal(askedFor(generate), 'generate from 1 messages');

  // @ts-expect-error an embeddings call takes no generate options, empty or not
  const withOptions: GatewayCall = { kind: 'embed', runId: 'run_c', api: 'openai.embeddings', target, identity, embed: { values: ['x'] }, options: { messages: [] } };
  assert.equal(withOptions.kind, 'embed');
  // @ts-expect-error nor does the request it comes from, which is never streamed
  const native: NativeCall = { kind: 'embed', target, identity, embed: { values: ['x'] }, stream: false };
  assert.equal(native.kind, 'embed');
});
