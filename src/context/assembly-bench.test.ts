import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchAssembly } from './index.ts';

// A smoke test: the benchmark's shape, not its speed (timing belongs in bench runs, not CI).
test('the assembly benchmark cuts about 100k candidate tokens to an 8k prompt', () => {
  const result = benchAssembly(3, 1);
  assert.ok(result.candidateTokens >= 95_000 && result.candidateTokens <= 105_000, String(result.candidateTokens));
  assert.ok(result.promptTokens <= 8_192 && result.promptTokens > 8_000);
  assert.equal(result.runs, 3);
  assert.ok(result.medianMs > 0);
});
