import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countPromptTokens } from '../cost/index.ts';
import { KeelError } from '../errors/index.ts';
import { canonicalJson, sha256 } from '../journal/index.ts';
import type { JsonValue, MessageV1 } from '../spec/index.ts';
import type { ContextLabels, ContextManifest } from './index.ts';
import { assembleContext } from './index.ts';
import { sampleInput, shuffledInput } from './testing/sample-context.ts';
import { wordItem, wordTokenizer } from './testing/word-tokenizer.ts';

function messageText(message: MessageV1): string {
  if (message.role === 'system') return message.content;
  const part = message.content[0];
  if (part?.type === 'text') return part.text;
  if (part?.type === 'tool-result' && typeof part.output === 'string') return part.output;
  return '';
}

test('the manifest is JSON the journal can hold, and its hash covers every other field', () => {
  const { manifest } = assembleContext(sampleInput());
  const asJson: JsonValue = manifest;
  const { manifestHash, ...unsealed } = manifest;
  assert.equal(manifestHash, sha256(canonicalJson(unsealed)));
  assert.deepEqual(JSON.parse(canonicalJson(asJson)), manifest);
});

test('manifest objects are built in canonical key order, so plain JSON of them is canonical JSON', () => {
  for (const input of [sampleInput(), shuffledInput(sampleInput(), 7)]) {
    const { manifestHash: _hash, ...unsealed } = assembleContext(input).manifest;
    assert.equal(JSON.stringify(unsealed), canonicalJson(unsealed));
  }
});

test('the manifest records each kept item: source, id, version, hash of the text sent, tokens, labels, section', () => {
  const { messages, manifest } = assembleContext(sampleInput());
  assert.equal(manifest.items.length, messages.length);
  const question = manifest.items.at(-1);
  assert.deepEqual(question, {
    contentHash: sha256('Where is my refund for parcel 7?'),
    id: 'question',
    labels: { origin: 'user', tenant: 'acme' },
    role: 'user',
    section: 'question',
    source: 'request',
    tokens: question?.tokens,
    version: '1',
  });
  messages.forEach((message, index) => {
    assert.equal(sha256(messageText(message)), manifest.items[index]?.contentHash);
  });
  assert.deepEqual(manifest.labels, { classifications: ['confidential', 'internal', 'personal'], origins: ['system', 'untrusted', 'user'], tenants: ['acme'] });
  assert.deepEqual(manifest.tokenizer, { estimated: false, name: 'o200k_base' });
  // Signals are ordered by their canonical JSON, whatever order they were given in.
  assert.deepEqual(manifest.signals.map((signal) => signal.kind), ['stale-result', 'low-coverage']);
});

test('totals equal what Keel\'s prompt counter says of the assembled messages, for every built-in tokenizer', () => {
  for (const target of [
    { provider: 'openai', modelId: 'gpt-4o', contextWindow: 2_400 },
    { provider: 'openai', modelId: 'gpt-4-0613', contextWindow: 2_400 },
    { provider: 'anthropic', modelId: 'claude-sonnet-4-5', contextWindow: 2_400 },
    { provider: 'sim', modelId: 'sim-1', contextWindow: 2_400 },
  ]) {
    const { messages, manifest } = assembleContext({ ...sampleInput(), target });
    const counted = countPromptTokens(target.provider, target.modelId, { messages });
    assert.equal(manifest.totals.promptTokens, counted.tokens, target.modelId);
    assert.equal(manifest.tokenizer.estimated, counted.estimated);
    assert.equal(manifest.tokenizer.name, counted.tokenizer);
    assert.ok(manifest.totals.promptTokens <= 2_400 - 500);
  }
});

test('sections go in prompt order by position, then priority, then name; items keep their section\'s order', () => {
  const { manifest } = assembleContext(sampleInput());
  assert.deepEqual(manifest.sections.map((section) => section.name), ['instructions', 'knowledge', 'documents', 'order', 'history', 'question']);
  const knowledge = manifest.items.filter((item) => item.section === 'knowledge');
  // Best score first; the three items scored 5 tie and go by id.
  assert.deepEqual(knowledge.map((item) => item.score), [12, 11, 10, 7, 6, 5, 5, 5]);
  assert.deepEqual(knowledge.slice(5).map((item) => item.id), ['policies/refunds.md#4', 'policies/refunds.md#5', 'policies/refunds.md#8']);
  const history = manifest.items.filter((item) => item.section === 'history');
  assert.equal(history[0]?.summary, true);
  assert.deepEqual(history.slice(1).map((item) => item.ageMs), [...history.slice(1).map((item) => item.ageMs ?? 0)].sort((a, b) => b - a));
});

test('messages: one an item, roles by item or section kind, tool results answer their call', () => {
  const { messages } = assembleContext(sampleInput());
  assert.equal(messages[0]?.role, 'system');
  const tool = messages.find((message) => message.role === 'tool');
  assert.deepEqual(tool?.content[0] && { ...tool.content[0], output: '…' }, { type: 'tool-result', toolCallId: 'call_1', toolName: 'lookup_order', output: '…' });
  assert.equal(messages.at(-1)?.role, 'user');
  assert.ok(messages.some((message) => message.role === 'assistant'));
});

test('invalid input is refused with config-invalid naming the problem', () => {
  const target = { provider: 'sim', modelId: 'sim-1', contextWindow: 100 };
  const section = { name: 'a', kind: 'documents' as const, priority: 1, maxTokens: 10, truncation: 'drop-oldest' as const, items: [] };
  const cases: [Parameters<typeof assembleContext>[0], RegExp][] = [
    [{ sections: [section, section], target, reserveForOutput: 0 }, /two context sections are named "a"/],
    [{ sections: [{ ...section, maxTokens: 1.5 }], target, reserveForOutput: 0 }, /maxTokens 1.5/],
    [{ sections: [section], target: { ...target, contextWindow: 0 }, reserveForOutput: 0 }, /contextWindow/],
    [{ sections: [{ ...section, items: [wordItem('x', 1, { meta: { score: Number.NaN } })] }], target, reserveForOutput: 0 }, /score/],
    [{ sections: [{ ...section, items: [wordItem('x', 1, { role: 'tool' })] }], target, reserveForOutput: 0 }, /toolCallId/],
    [{ sections: [{ ...section, items: [wordItem('x', 1, { labels: JSON.parse('{"tenants":[],"classification":"secret","origins":[]}') as ContextLabels })] }], target, reserveForOutput: 0 }, /unknown classification "secret"/],
    [{ sections: [{ ...section, items: [wordItem('x', 1, { labels: JSON.parse('{"tenants":[],"classification":"internal","origins":["web"]}') as ContextLabels })] }], target, reserveForOutput: 0 }, /unknown origin "web"/],
    [{ sections: [{ ...section, items: [wordItem('x', 1, { labels: JSON.parse('{"tenants":"acme","classification":"internal","origins":[]}') as ContextLabels })] }], target, reserveForOutput: 0 }, /needs labels\.tenants/],
    [{ sections: [{ ...section, items: [wordItem('x', 1, { labels: JSON.parse('{"origin":"intranet"}') as ContextLabels })] }], target, reserveForOutput: 0 }, /unknown origin "intranet"/],
    [{ sections: [{ ...section, items: [wordItem('x', 1, { labels: undefined as unknown as ContextLabels })] }], target, reserveForOutput: 0 }, /has no labels/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => assembleContext({ ...input, tokenizer: wordTokenizer }), (error: unknown) => error instanceof KeelError && error.code === 'config-invalid' && message.test(error.message));
  }
});

test('a reserve that leaves no room for a prompt is an error, not an empty prompt', () => {
  assert.throws(
    () => assembleContext({ sections: [], target: { provider: 'sim', modelId: 'sim-1', contextWindow: 100 }, reserveForOutput: 98 }),
    (error: unknown) => error instanceof KeelError && error.code === 'model-context-exceeded',
  );
});

test('an empty context is three tokens of framing and no messages', () => {
  const { messages, manifest } = assembleContext({ sections: [], target: { provider: 'sim', modelId: 'sim-1', contextWindow: 100 }, reserveForOutput: 0 });
  assert.deepEqual(messages, []);
  const totals: ContextManifest['totals'] = { candidateItems: 0, candidateTokens: 0, droppedItems: 0, keptItems: 0, promptTokens: 3, truncatedItems: 0 };
  assert.deepEqual(manifest.totals, totals);
});

test('labels in the form items had before LabelsV1 (one optional tenant, classification, origin), as older journals hold them, are read as LabelsV1', () => {
  const section = { name: 'a', kind: 'documents' as const, priority: 1, maxTokens: 100, truncation: 'drop-oldest' as const };
  const recorded = [
    wordItem('full', 2, { labels: JSON.parse('{"tenant":"acme","classification":"personal","origin":"user"}') as ContextLabels }),
    wordItem('bare', 2, { labels: JSON.parse('{}') as ContextLabels }),
  ];
  const { manifest } = assembleContext({ sections: [{ ...section, items: recorded }], target: { provider: 'sim', modelId: 'sim-1', contextWindow: 1_000 }, reserveForOutput: 0, tokenizer: wordTokenizer });
  assert.deepEqual(
    manifest.items.map((item) => [item.id, item.labels]),
    [
      ['bare', {}],
      ['full', { classification: 'personal', origin: 'user', tenant: 'acme' }],
    ],
  );
  assert.deepEqual(manifest.labels, { classifications: ['personal'], origins: ['user'], tenants: ['acme'] });
});

test('an item with several tenants or origins lists them sorted and once in the manifest, however they were given', () => {
  const item = wordItem('x', 2, { labels: { tenants: ['globex', 'acme', 'globex'], classification: 'internal', origins: ['user', 'system', 'user'] } });
  const { manifest } = assembleContext({ sections: [{ name: 'a', kind: 'documents', priority: 1, maxTokens: 100, truncation: 'never', items: [item] }], target: { provider: 'sim', modelId: 'sim-1', contextWindow: 1_000 }, reserveForOutput: 0, tokenizer: wordTokenizer });
  assert.deepEqual(manifest.items[0]?.labels, { classification: 'internal', origins: ['system', 'user'], tenants: ['acme', 'globex'] });
  assert.deepEqual(manifest.labels, { classifications: ['internal'], origins: ['system', 'user'], tenants: ['acme', 'globex'] });
});
