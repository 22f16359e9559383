import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeelError } from '../errors/index.ts';
import type { AssembleContextInput, ContextSection, TruncationRule } from './index.ts';
import { assembleContext } from './index.ts';
import { wordItem, wordTokenizer } from './testing/word-tokenizer.ts';

// With the word tokenizer an item of n words costs n + 4 tokens and a prompt adds 3.

function section(name: string, truncation: TruncationRule, maxTokens: number, priority = 1): ContextSection {
  return {
    name,
    kind: 'documents',
    priority,
    maxTokens,
    truncation,
    items: [wordItem(`${name}-a`, 46, { meta: { score: 2, ageMs: 1 } }), wordItem(`${name}-b`, 46, { meta: { score: 1, ageMs: 2 } })],
  };
}

function run(sections: ContextSection[], contextWindow: number, reserveForOutput = 0): ReturnType<typeof assembleContext> {
  const input: AssembleContextInput = { sections, target: { provider: 'sim', modelId: 'sim-1', contextWindow }, reserveForOutput, tokenizer: wordTokenizer };
  return assembleContext(input);
}

test('a section exactly at its budget keeps everything', () => {
  for (const rule of ['drop-lowest-score', 'drop-oldest', 'truncate-tail', 'truncate-head', 'summarise-then-drop', 'never'] as const) {
    const { manifest } = run([section('docs', rule, 100)], 1_000);
    assert.equal(manifest.totals.keptItems, 2, rule);
    assert.deepEqual([manifest.dropped, manifest.truncated], [[], []], rule);
    assert.equal(manifest.sections[0]?.keptTokens, 100);
  }
});

test('one token over the section budget drops or cuts exactly one item, by the section\'s rule', () => {
  const dropLowest = run([section('docs', 'drop-lowest-score', 99)], 1_000).manifest;
  assert.deepEqual(dropLowest.dropped.map((drop) => [drop.id, drop.reason]), [['docs-b', 'over-section-budget']]);
  const dropOldest = run([section('docs', 'drop-oldest', 99)], 1_000).manifest;
  assert.deepEqual(dropOldest.dropped.map((drop) => [drop.id, drop.reason]), [['docs-b', 'over-section-budget']]);
  const tail = run([section('docs', 'truncate-tail', 99)], 1_000);
  assert.deepEqual(
    tail.manifest.truncated.map((cut) => [cut.id, cut.reason, cut.budget, cut.originalTokens, cut.keptTokens]),
    [['docs-b', 'truncated-tail', 'section', 46, 45]],
  );
  assert.equal(tail.manifest.sections[0]?.keptTokens, 99);
  const head = run([section('docs', 'truncate-head', 99)], 1_000).manifest;
  assert.deepEqual(head.truncated.map((cut) => [cut.id, cut.reason, cut.keptTokens]), [['docs-a', 'truncated-head', 45]]);
});

test('a never section one token over its budget fails assembly naming the section', () => {
  assert.throws(
    () => run([section('policy', 'never', 99)], 1_000),
    (error: unknown) =>
      error instanceof KeelError && error.code === 'context-over-budget' && /"policy" needs 100 tokens but its budget is 99/.test(error.message) && error.details?.['section'] === 'policy',
  );
});

test('the window: exactly at contextWindow − reserve fits; one token less drops by the rule, over-window', () => {
  // 3 + 100 = 103 tokens of prompt.
  assert.equal(run([section('docs', 'drop-oldest', 100)], 103).manifest.totals.promptTokens, 103);
  assert.equal(run([section('docs', 'drop-oldest', 100)], 153, 50).manifest.totals.keptItems, 2);
  const short = run([section('docs', 'drop-oldest', 100)], 152, 50).manifest;
  assert.deepEqual(short.dropped.map((drop) => [drop.id, drop.reason]), [['docs-b', 'over-window']]);
  assert.equal(short.totals.promptTokens, 53);
  const cut = run([section('docs', 'truncate-tail', 100)], 152, 50).manifest;
  assert.deepEqual(cut.truncated.map((entry) => [entry.id, entry.budget, entry.keptTokens]), [['docs-b', 'window', 45]]);
  assert.equal(cut.totals.promptTokens, 102);
});

test('the reserve for output is respected: a larger reserve takes tokens from the prompt', () => {
  for (const reserve of [0, 1, 10, 49, 50, 51, 100]) {
    const { manifest } = run([section('docs', 'truncate-tail', 100)], 153, reserve);
    assert.ok(manifest.totals.promptTokens <= 153 - reserve, `reserve ${reserve}`);
    assert.equal(manifest.budget.available, 153 - reserve);
  }
});

test('a never section that the window cannot hold fails naming the section and the window', () => {
  assert.throws(
    () => run([section('policy', 'never', 100, 5)], 102),
    (error: unknown) => error instanceof KeelError && /"policy" needs 100 tokens but the window leaves it 99/.test(error.message),
  );
});

test('priorities: the window takes from the lowest-priority section first, whatever the input order', () => {
  const sections = [section('low', 'drop-oldest', 100, 1), section('high', 'drop-oldest', 100, 9), section('middle', 'drop-oldest', 100, 5)];
  // Room for 3 + 150: `low` gives up both items, `middle` one.
  const { manifest } = run(sections, 153);
  assert.deepEqual(manifest.dropped.map((drop) => drop.id), ['low-b', 'low-a', 'middle-b']);
  assert.deepEqual(manifest.items.map((item) => item.id), ['high-a', 'high-b', 'middle-a']);
  assert.equal(run([...sections].reverse(), 153).manifest.manifestHash, manifest.manifestHash);
  // Never a higher-priority item while a lower-priority one is kept.
  const dropped = new Set(manifest.dropped.map((drop) => drop.section));
  assert.ok(!dropped.has('high'));
});
