import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flatCopy } from './flat-copy.ts';
import { canonicalJson } from './hash.ts';

test('flat data is copied, one level of plain objects included, and serialises as the original does', () => {
  const usage = { inputTokens: 3, outputTokens: 4 };
  const data = { step: 2, reason: 'quote " and \\u2028', estimated: false, missing: undefined, none: null, usage };
  const copy = flatCopy(data, 1);
  assert.ok(copy !== undefined);
  assert.notEqual(copy.usage, usage);
  assert.equal(canonicalJson(copy), canonicalJson(data));
});

test('anything that is not flat JSON data is left to be serialised at once', () => {
  for (const data of [
    { messages: [{ role: 'user' }] },
    { at: new Date(0) },
    { deep: { deeper: { deepest: 1 } } },
    { count: Number.NaN },
    { count: Number.POSITIVE_INFINITY },
    { call: () => 1 },
    { big: 1n },
    Object.assign(Object.create(null) as object, { step: 1 }),
    { toJSON: () => 'x' },
  ]) {
    assert.equal(flatCopy(data, 1), undefined, JSON.stringify(Object.keys(data)));
  }
});
