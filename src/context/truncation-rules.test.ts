import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContextItem, ContextSection, SectionKind, TruncationRule } from './index.ts';
import { assembleContext, minimumCutTokens } from './index.ts';
import { wordItem, wordTokenizer } from './testing/word-tokenizer.ts';

// Items of 6 words cost 10 tokens each with the word tokenizer.

function fit(truncation: TruncationRule, items: ContextItem[], maxTokens: number, extra: Partial<ContextSection> & { kind?: SectionKind } = {}) {
  const section: ContextSection = { name: 's', kind: 'documents', priority: 1, maxTokens, truncation, items, ...extra };
  return assembleContext({ sections: [section], target: { provider: 'sim', modelId: 'sim-1', contextWindow: 10_000 }, reserveForOutput: 0, tokenizer: wordTokenizer });
}

const ids = (list: { id: string }[]) => list.map((entry) => entry.id);

test('drop-lowest-score drops by ascending score (unscored first); survivors keep prompt order', () => {
  const items = [wordItem('a', 6, { meta: { score: 0.9 } }), wordItem('b', 6, { meta: { score: 0.1 } }), wordItem('c', 6, { meta: { score: 0.5 } }), wordItem('d', 6)];
  const { manifest } = fit('drop-lowest-score', items, 20);
  assert.deepEqual(ids(manifest.dropped), ['d', 'b']);
  // A documents section lays items out by identity, whatever their scores.
  assert.deepEqual(ids(manifest.items), ['a', 'c']);
  // A retrieval section lays them out best first.
  assert.deepEqual(ids(fit('drop-lowest-score', items, 30, { kind: 'retrieval' }).manifest.items), ['a', 'c', 'b']);
});

test('drop-oldest drops by descending age (unknown age first)', () => {
  const items = [wordItem('a', 6, { meta: { ageMs: 10 } }), wordItem('b', 6, { meta: { ageMs: 30 } }), wordItem('c', 6, { meta: { ageMs: 20 } }), wordItem('d', 6)];
  assert.deepEqual(ids(fit('drop-oldest', items, 20).manifest.dropped), ['d', 'b']);
  // History is laid out oldest first.
  assert.deepEqual(ids(fit('drop-oldest', items, 30, { kind: 'history' }).manifest.items), ['b', 'c', 'a']);
});

test('truncate-tail keeps the start: whole items, then a prefix of the next, then nothing', () => {
  const items = [wordItem('a', 6), wordItem('b', 20), wordItem('c', 6)];
  const { messages, manifest } = fit('truncate-tail', items, 10 + 4 + 12);
  assert.deepEqual(ids(manifest.items), ['a', 'b']);
  assert.equal(manifest.items[1]?.truncated, 'tail');
  assert.deepEqual(manifest.dropped.map((drop) => [drop.id, drop.reason]), [['c', 'over-section-budget']]);
  const sent = messages[1]?.role === 'user' ? messages[1].content[0]?.text : undefined;
  assert.ok(sent !== undefined && items[1]?.text.startsWith(sent) && wordTokenizer.count(sent) === 12, sent);
  assert.deepEqual(manifest.truncated.map((cut) => [cut.originalTokens, cut.keptTokens]), [[20, 12]]);
});

test('truncate-head keeps the end: whole items from the last, then a suffix of the one before', () => {
  const items = [wordItem('a', 6), wordItem('b', 20), wordItem('c', 6)];
  const { messages, manifest } = fit('truncate-head', items, 10 + 4 + 12);
  assert.deepEqual(ids(manifest.items), ['b', 'c']);
  assert.equal(manifest.items[0]?.truncated, 'head');
  assert.deepEqual(ids(manifest.dropped), ['a']);
  const sent = messages[0]?.role === 'user' ? messages[0].content[0]?.text : undefined;
  assert.ok(sent !== undefined && items[1]?.text.endsWith(sent) && wordTokenizer.count(sent) === 12, sent);
});

test('a cut that would leave fewer than the minimum tokens drops the item instead', () => {
  const items = [wordItem('a', 6), wordItem('b', 20)];
  const { manifest } = fit('truncate-tail', items, 10 + 4 + minimumCutTokens - 1);
  assert.deepEqual(ids(manifest.items), ['a']);
  assert.deepEqual(manifest.truncated, []);
  assert.deepEqual(ids(fit('truncate-tail', items, 10 + 4 + minimumCutTokens).manifest.truncated), ['b']);
});

test('summarise-then-drop replaces the oldest turns by the summary; without room for it, drops oldest', () => {
  const turns = [1, 2, 3, 4, 5].map((turn) => wordItem(`t${turn}`, 6, { meta: { ageMs: 100 - turn } }));
  const summary = wordItem('summary', 6, { role: 'assistant' });
  const { manifest, messages } = fit('summarise-then-drop', turns, 30, { kind: 'history', summary });
  assert.deepEqual(ids(manifest.items), ['summary', 't4', 't5']);
  assert.equal(manifest.items[0]?.summary, true);
  assert.equal(messages[0]?.role, 'assistant');
  assert.deepEqual(manifest.dropped.map((drop) => [drop.id, drop.reason]), [['t1', 'summarised'], ['t2', 'summarised'], ['t3', 'summarised']]);
  // Everything fits: the summary is not used.
  assert.deepEqual(ids(fit('summarise-then-drop', turns, 50, { kind: 'history', summary }).manifest.items), ['t1', 't2', 't3', 't4', 't5']);
  // No summary, or a summary larger than the budget: drop-oldest.
  assert.deepEqual(ids(fit('summarise-then-drop', turns, 30, { kind: 'history' }).manifest.items), ['t3', 't4', 't5']);
  const large = wordItem('summary', 40);
  const fallback = fit('summarise-then-drop', turns, 30, { kind: 'history', summary: large }).manifest;
  assert.deepEqual(ids(fallback.items), ['t3', 't4', 't5']);
  assert.deepEqual(fallback.dropped.map((drop) => drop.reason), ['over-section-budget', 'over-section-budget']);
});

test('summarise-then-drop under window pressure gives up turns, then the summary itself', () => {
  const turns = [1, 2, 3, 4, 5].map((turn) => wordItem(`t${turn}`, 6, { meta: { ageMs: 100 - turn } }));
  const summary = wordItem('summary', 6);
  const history: ContextSection = { name: 'history', kind: 'history', priority: 1, maxTokens: 30, truncation: 'summarise-then-drop', items: turns, summary };
  const assemble = (contextWindow: number) =>
    assembleContext({ sections: [history], target: { provider: 'sim', modelId: 'sim-1', contextWindow }, reserveForOutput: 0, tokenizer: wordTokenizer }).manifest;
  assert.deepEqual(ids(assemble(3 + 20).items), ['summary', 't5']);
  assert.deepEqual(assemble(3 + 20).dropped.map((drop) => [drop.id, drop.reason]).slice(-1), [['t4', 'summarised']]);
  const tight = assemble(3 + 9);
  assert.deepEqual(ids(tight.items), []);
  assert.deepEqual(tight.dropped.slice(-3).map((drop) => [drop.id, drop.reason]), [['summary', 'over-window'], ['t4', 'over-window'], ['t5', 'over-window']]);
});

test('a tool result is cut inside its JSON wrapping and still counted as the prompt counter counts it', () => {
  const result = wordItem('lookup', 40, { role: 'tool', meta: { toolCallId: 'call_1', toolName: 'lookup' } });
  const { messages, manifest } = fit('truncate-tail', [result], 30);
  assert.equal(manifest.items[0]?.truncated, 'tail');
  const part = messages[0]?.role === 'tool' ? messages[0].content[0] : undefined;
  assert.ok(part !== undefined && typeof part.output === 'string' && result.text.startsWith(part.output));
  assert.equal(manifest.items[0]?.tokens, wordTokenizer.count(JSON.stringify(part)));
  assert.ok((manifest.items[0]?.tokens ?? 0) + 4 <= 30);
});
