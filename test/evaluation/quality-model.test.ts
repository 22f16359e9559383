import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeelError, resolveModel } from 'keel';
import type { GenerateOptionsV1 } from 'keel';
import { parseConfig } from '../../src/config/index.ts';
import { parseSimulatorName } from '../../src/models/index.ts';

const question = (text: string): GenerateOptionsV1 => ({ messages: [{ role: 'user', content: [{ type: 'text', text }] }] });

function textOf(result: Awaited<ReturnType<ReturnType<typeof resolveModel>['doGenerate']>>): string {
  return result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

test('sim:NAME@Q parses its quality; a quality outside (0, 1] is one clear error', () => {
  assert.deepEqual(parseSimulatorName('default@0.85'), { profile: 'default', quality: 0.85 });
  assert.deepEqual(parseSimulatorName('fast'), { profile: 'fast', quality: undefined });
  for (const bad of ['default@0', 'default@1.5', 'default@abc', 'default@', 'default@-0.2']) {
    assert.throws(() => parseSimulatorName(bad), (error: unknown) => error instanceof KeelError && error.code === 'config-invalid' && /above 0 and at most 1/.test(error.message), bad);
  }
  const config = (model: string) => parseConfig({ version: 1, routes: [{ name: 'support', models: [model] }] }, 'keel.config.json');
  assert.equal(config('sim:default@0.85').routes[0]?.models[0], 'sim:default@0.85');
  assert.throws(() => config('sim:default@2'), (error: unknown) => error instanceof KeelError && error.code === 'config-invalid' && /sim:default@2/.test(error.message));
});

test('sim:default@0.85 answers like sim:default on about 85% of items and wrongly on the rest, the same items every time', async () => {
  const items = Array.from({ length: 1_000 }, (_, index) => `Customer ${index} asks about order A-${1000 + index}`);
  const original = resolveModel('sim:default', { simulator: { seed: 7 } });
  const degraded = resolveModel('sim:default@0.85', { simulator: { seed: 7 } });
  const again = resolveModel('sim:default@0.85', { simulator: { seed: 7 } });
  let same = 0;
  for (const item of items) {
    const expected = textOf(await original.doGenerate(question(item)));
    const answered = textOf(await degraded.doGenerate(question(item)));
    assert.equal(textOf(await again.doGenerate(question(item))), answered, 'the same item is wrong (or right) every time');
    if (answered === expected) same += 1;
  }
  // 1,000 seeded draws at 0.85: within four standard deviations (±0.045) of 0.85.
  assert.ok(Math.abs(same / items.length - 0.85) < 0.045, `${same} of ${items.length} right`);
  // Priced and journaled as the profile it degrades.
  assert.equal(degraded.modelId, 'default');
});

test('sim:NAME@1 is sim:NAME', async () => {
  const original = resolveModel('sim:default', { simulator: { seed: 3 } });
  const full = resolveModel('sim:default@1', { simulator: { seed: 3 } });
  for (const item of ['one', 'two', 'three']) assert.equal(textOf(await full.doGenerate(question(item))), textOf(await original.doGenerate(question(item))));
});
