import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from './hash.ts';
import { jsonCopy } from './json-copy.ts';

test('JSON data is copied through nested objects and arrays, serialises as the original does, and is what that text parses back to', () => {
  const usage = { inputTokens: 3, outputTokens: 4 };
  const messages = [{ role: 'user', content: [{ type: 'text', text: 'quote " and \u2028 😀' }] }, null, 'x'];
  // A hole and an undefined item serialise as null, an undefined field not at all.
  const sparse: unknown[] = [1];
  sparse[2] = 3;
  const data = { step: 2, reason: 'r', estimated: false, missing: undefined, none: null, usage, messages, sparse, list: [undefined, -0, 1e21] };
  const copy = jsonCopy(data, 16) as typeof data | undefined;
  assert.ok(copy !== undefined);
  assert.equal(canonicalJson(copy), canonicalJson(data));
  // It is what the canonical text parses back to: no undefined field, null for an undefined or absent item, 0 for -0.
  assert.deepEqual(copy, JSON.parse(canonicalJson(data)));
  assert.notEqual(copy.usage, usage);
  assert.notEqual(copy.messages, messages);
  assert.notEqual(copy.messages[0], messages[0]);
  // A snapshot: what the caller changes afterwards does not reach it.
  const before = canonicalJson(data);
  usage.inputTokens = 99;
  (messages[0] as { content: { text: string }[] }).content[0]!.text = 'changed';
  messages.push('more');
  assert.equal(canonicalJson(copy), before);
});

test('anything that is not plain JSON data, or is deeper than asked, is left to be serialised at once', () => {
  const cyclic: { self?: unknown } = {};
  cyclic.self = cyclic;
  for (const data of [
    { at: new Date(0) },
    { items: [new Date(0)] },
    { count: Number.NaN },
    { items: [Number.POSITIVE_INFINITY] },
    { call: () => 1 },
    { big: 1n },
    { symbol: Symbol('s') },
    Object.assign(Object.create(null) as object, { step: 1 }),
    { toJSON: () => 'x' },
    { items: Object.assign([1], { toJSON: () => 'x' }) },
    { map: new Map([[1, 2]]) },
    { bytes: new Uint8Array(2) },
    cyclic,
  ]) {
    assert.equal(jsonCopy(data, 16), undefined, String(Object.keys(data)));
  }
  assert.equal(jsonCopy({ a: { b: { c: 1 } } }, 2), undefined);
  assert.ok(jsonCopy({ a: { b: { c: 1 } } }, 3) !== undefined);
});
