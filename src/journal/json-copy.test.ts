import assert from 'node:assert/strict';
import { test } from 'node:test';
import canonicalize from 'canonicalize';
import { canonicalJson } from './hash.ts';
import { jsonSnapshot, snapshotText } from './json-copy.ts';

test('JSON data is copied through nested objects and arrays, its text is the canonical text, and it is what that text parses back to', () => {
  const usage = { inputTokens: 3, outputTokens: 4 };
  const messages = [{ role: 'user', content: [{ type: 'text', text: 'quote " and \u2028 😀 \ud800 lone' }] }, null, 'x'];
  // A hole and an undefined item serialise as null, an undefined field not at all.
  const sparse: unknown[] = [1];
  sparse[2] = 3;
  const data = { step: 2, reason: 'r', estimated: false, missing: undefined, none: null, usage, messages, sparse, list: [undefined, -0, 1e21, 5e-324, 0.1 + 0.2] };
  const snapshot = jsonSnapshot(data, 16);
  assert.ok(snapshot !== undefined);
  const copy = snapshot.data as typeof data;
  assert.equal(snapshot.ordered, true);
  assert.equal(snapshotText(snapshot), canonicalJson(data));
  // What the canonical text parses back to, keys in the same order: no undefined field, null for an undefined or absent item, 0 for -0.
  const parsed = JSON.parse(canonicalJson(data)) as unknown;
  assert.deepEqual(copy, parsed);
  assert.equal(JSON.stringify(copy), JSON.stringify(parsed));
  assert.notEqual(copy.usage, usage);
  assert.notEqual(copy.messages, messages);
  assert.notEqual(copy.messages[0], messages[0]);
  // A snapshot: what the caller changes afterwards does not reach it.
  const before = canonicalJson(data);
  usage.inputTokens = 99;
  (messages[0] as { content: { text: string }[] }).content[0]!.text = 'changed';
  messages.push('more');
  assert.equal(snapshotText(snapshot), before);
});

test("a snapshot's text agrees with a reference RFC 8785 implementation, keys in UTF-16 order, array-index keys included", () => {
  const samples = [
    { b: 1, a: [true, null, 'x'], c: { z: 1, y: 2 } },
    { numbers: [0, 1.5, -1e-7, 1e21, 123456789012345680000, 5e-324, 0.1 + 0.2], 'é': 'ü', A: 'Z', '\u2028': '\u2029', '😀': 4, 'ﬀ': 5, '': 'empty', aB: 1, Ab: 2, ab: 3 },
    { escapes: 'quote " backslash \\ tab \t newline \n nul \u0000 bell \u0007 emoji 😀', nested: [[[{}]], []] },
    { '10': 'ten', '9': 'nine', '1a': 'not an index', z: { '2': 'two', '11': 'eleven' } },
    { many: Object.fromEntries(Array.from({ length: 40 }, (_, index) => [`key-${(index * 7919) % 40}`, index])) },
  ];
  for (const sample of samples) {
    const snapshot = jsonSnapshot(sample, 16);
    assert.ok(snapshot !== undefined);
    assert.equal(snapshotText(snapshot), canonicalize(sample));
  }
  // Keys V8 keeps first in numeric order: the text is written canonically instead.
  assert.equal(jsonSnapshot({ '10': 1, '9': 2 }, 4)?.ordered, false);
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
    JSON.parse('{"args":{"__proto__":{"polluted":true}}}') as object,
    cyclic,
  ]) {
    assert.equal(jsonSnapshot(data, 16), undefined, String(Object.keys(data)));
  }
  assert.equal(jsonSnapshot({ a: { b: { c: 1 } } }, 2), undefined);
  assert.ok(jsonSnapshot({ a: { b: { c: 1 } } }, 3) !== undefined);
});

test('a snapshot taken by a getter while another is being taken does not change what the outer one knows of its keys', () => {
  const inner = { '1': 'one' };
  const outer = {
    '10': 'ten',
    get nested() {
      return jsonSnapshot({ plain: true }, 4)?.data;
    },
    '9': 'nine',
  };
  const snapshot = jsonSnapshot(outer, 8);
  assert.ok(snapshot !== undefined);
  assert.equal(snapshot.ordered, false);
  assert.equal(snapshotText(snapshot), canonicalize(JSON.parse(JSON.stringify(outer)) as object));
  assert.equal(jsonSnapshot(inner, 4)?.ordered, false);
});
