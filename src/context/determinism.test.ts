import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { canonicalJson } from '../journal/index.ts';
import { assembleContext } from './index.ts';
import { sampleInput, shuffledInput } from './testing/sample-context.ts';

const script = fileURLToPath(new URL('./testing/print-assembly.ts', import.meta.url));

/** Assembles the sample in a fresh process with its own clock zone and locale. */
function inChildProcess(environment: Record<string, string>, seed?: number): string {
  const args = seed === undefined ? [script] : [script, String(seed)];
  return execFileSync(process.execPath, args, { env: { ...process.env, ...environment }, encoding: 'utf8' });
}

test('two processes with different time zones and locales produce byte-identical messages and manifest hash', () => {
  const first = inChildProcess({ TZ: 'UTC', LANG: 'C', LC_ALL: 'C' });
  const second = inChildProcess({ TZ: 'Pacific/Kiritimati', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8' });
  assert.equal(first, second);
  const { messages, manifest } = assembleContext(sampleInput());
  assert.equal(first, canonicalJson({ messages, manifestHash: manifest.manifestHash }));
});

test('sections, items and signals in any order give the same bytes, in this process and another', () => {
  const { messages, manifest } = assembleContext(sampleInput());
  const expected = canonicalJson({ messages, manifestHash: manifest.manifestHash });
  for (const seed of [1, 2, 3, 42, 1_000_003]) {
    const shuffled = assembleContext(shuffledInput(sampleInput(), seed));
    assert.equal(canonicalJson({ messages: shuffled.messages, manifestHash: shuffled.manifest.manifestHash }), expected, `seed ${seed}`);
  }
  assert.equal(inChildProcess({ TZ: 'America/St_Johns' }, 99), expected);
});

test('assembling twice in one process, with warm caches, changes nothing', () => {
  const first = assembleContext(sampleInput());
  const second = assembleContext(sampleInput());
  assert.deepEqual(second, first);
});

test('any change to an item\'s text changes the manifest hash', () => {
  const base = assembleContext(sampleInput()).manifest.manifestHash;
  const input = sampleInput();
  const question = input.sections.find((section) => section.name === 'question')?.items[0];
  assert.ok(question !== undefined);
  question.text += '!';
  assert.notEqual(assembleContext(input).manifest.manifestHash, base);
});
