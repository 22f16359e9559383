import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tokenizerForModel } from './index.ts';
import { wordTokenizer } from './testing/word-tokenizer.ts';
import { truncateText } from './truncate-text.ts';

const text = 'Das Paket 📦 kam spät an; İstanbul → Zürich, naïve café. '.repeat(20);

test('a cut is a literal prefix or suffix within budget, never a broken character', () => {
  for (const tokenizer of [tokenizerForModel('openai', 'gpt-4o'), tokenizerForModel('openai', 'gpt-4'), tokenizerForModel('anthropic', 'claude'), wordTokenizer]) {
    for (const budget of [1, 7, 33, 100]) {
      const tail = truncateText(tokenizer, text, budget, 'tail');
      const head = truncateText(tokenizer, text, budget, 'head');
      assert.ok(text.startsWith(tail.text) && text.endsWith(head.text), `${tokenizer.name} ${budget}`);
      assert.ok(tail.tokens <= budget && head.tokens <= budget);
      assert.equal(tail.tokens, tokenizer.count(tail.text));
      assert.ok(!tail.text.includes('\uFFFD') && !head.text.includes('\uFFFD'));
      // Not needlessly short: within a few tokens of the budget.
      assert.ok(tail.tokens >= budget - 3, `${tokenizer.name} kept ${tail.tokens} of ${budget}`);
    }
  }
});

test('text within budget is returned whole; a zero budget keeps nothing', () => {
  const tokenizer = tokenizerForModel('sim', 'sim-1');
  assert.equal(truncateText(tokenizer, 'short', 10, 'tail').text, 'short');
  assert.deepEqual(truncateText(tokenizer, text, 0, 'head'), { text: '', tokens: 0 });
});
