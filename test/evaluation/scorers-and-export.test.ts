import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatLineProblems, judgeAgreement, parseScorers } from '../../src/evaluation/index.ts';
import type { Answer, DatasetItem } from '../../src/evaluation/index.ts';

const item = (output: unknown, toolCalls: { name: string; args: unknown }[] = []): DatasetItem =>
  ({
    id: 'run_1',
    kind: 'run',
    run: 'run_1',
    step: null,
    task: 't',
    taskVersion: '1',
    journalHash: 'h',
    cluster: 'run_1',
    input: null,
    reference: { status: 'ok', output, toolCalls, tokens: 100, costMicros: 5, latencyMs: 20 },
    response: null,
    conversation: null,
    label: null,
  }) as DatasetItem;

const answer = (output: unknown, extra: Partial<Answer> = {}): Answer => ({ status: 'ok', output: output as Answer['output'], toolCalls: [], tokens: 100, latencyMs: 10, divergence: null, ...extra });

function score(spec: string, given: Answer, reference: DatasetItem): number {
  const scorer = parseScorers(spec).scorers[0];
  assert.ok(scorer !== undefined);
  return scorer.score(given, reference).score;
}

test('exact, JSON-field, numeric and regex scorers compare with the recorded output', () => {
  const reference = item({ output: { refundCents: 4200, policy: 'refunds-apparel.md', answer: 'Done: refund re_1' } });
  assert.equal(score('exact', answer({ output: { answer: 'Done: refund re_1', policy: 'refunds-apparel.md', refundCents: 4200 } }), reference), 1);
  assert.equal(score('exact', answer({ output: { refundCents: 4200 } }), reference), 0);
  assert.equal(score('exact', answer(reference.reference.output, { status: 'degraded' }), reference), 0);
  assert.equal(score('json:output.refundCents|output.policy', answer({ output: { refundCents: 4200, policy: 'other.md' } }), reference), 0.5);
  assert.equal(score('numeric:output.refundCents:100', answer({ output: { refundCents: 4250 } }), reference), 1);
  assert.equal(score('numeric:output.refundCents:10', answer({ output: { refundCents: 4250 } }), reference), 0);
  assert.equal(score('regex:output.answer:^Done: refund re_\\d+$', answer({ output: { answer: 'Done: refund re_7' } }), reference), 1);
  assert.equal(score('regex:output.answer:^Done', answer({ output: { answer: 'Sorry' } }), reference), 0);
});

test('tool use: which tools with which arguments; a divergence scores 0', () => {
  const reference = item(null, [{ name: 'lookup_order', args: { orderId: 'A-1' } }, { name: 'issue_refund', args: { orderId: 'A-1', amountCents: 100 } }]);
  assert.equal(score('tools', answer(null, { toolCalls: reference.reference.toolCalls }), reference), 1);
  assert.equal(score('tools', answer(null, { toolCalls: [{ name: 'lookup_order', args: { orderId: 'A-1' } }] }), reference), 2 / 3);
  assert.equal(score('tools', answer(null, { toolCalls: [{ name: 'lookup_order', args: { orderId: 'A-2' } }] }), reference), 0);
  assert.equal(score('tools', answer(null, { divergence: 'the candidate called issue_refund({…}), which the recorded run never did' }), reference), 0);
});

test('contract, latency and cost scorers', () => {
  const reference = item(null);
  assert.equal(score('contract', answer(null, { status: 'degraded' }), reference), 1);
  assert.equal(score('contract', answer(null, { status: 'escalated' }), reference), 0);
  assert.equal(score('latency:50', answer(null, { latencyMs: 49 }), reference), 1);
  assert.equal(score('latency:50', answer(null, { latencyMs: 51 }), reference), 0);
  assert.equal(score('cost:1.2', answer(null, { tokens: 120 }), reference), 1);
  assert.equal(score('cost:1.2', answer(null, { tokens: 121 }), reference), 0);
});

test('scorer lists: the first is the verdict’s; unknown or repeated scorers are refused', () => {
  assert.equal(parseScorers(undefined).primary, 'exact');
  const judged = parseScorers('judge,exact');
  assert.deepEqual([judged.judge, judged.primary, judged.scorers.map((scorer) => scorer.name)], [true, 'judge', ['exact']]);
  assert.throws(() => parseScorers('exact,exact'), /named twice/);
  assert.throws(() => parseScorers('fuzzy'), /unknown scorer 'fuzzy'/);
  assert.throws(() => parseScorers('latency:-3'), /positive number/);
  assert.throws(() => parseScorers('regex:output:('), /not a regular expression/);
});

test('judge agreement: Cohen’s κ, sensitivity and specificity', () => {
  // 40 pass/pass, 10 pass by judge only, 5 pass by human only, 45 fail/fail.
  const pairs = [
    ...Array.from({ length: 40 }, () => ({ judge: 1, human: 1 })),
    ...Array.from({ length: 10 }, () => ({ judge: 1, human: 0 })),
    ...Array.from({ length: 5 }, () => ({ judge: 0, human: 1 })),
    ...Array.from({ length: 45 }, () => ({ judge: 0, human: 0 })),
  ];
  const agreement = judgeAgreement(pairs);
  assert.equal(agreement.observed, 0.85);
  // Chance: 0.5·0.45 + 0.5·0.55 = 0.5, so κ = (0.85 − 0.5) / 0.5.
  assert.ok(Math.abs((agreement.kappa ?? 0) - 0.7) < 1e-12);
  assert.ok(Math.abs((agreement.sensitivity ?? 0) - 40 / 45) < 1e-12);
  assert.ok(Math.abs((agreement.specificity ?? 0) - 45 / 55) < 1e-12);
  assert.equal(judgeAgreement([{ judge: 1, human: 1 }]).kappa, null);
});

test('the chat fine-tuning format check accepts a tool conversation and names what breaks it', () => {
  const good = {
    messages: [
      { role: 'system', content: 'You are a support agent.' },
      { role: 'user', content: 'Refund A-1001' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup_order', arguments: '{"orderId":"A-1001"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"id":"A-1001"}' },
      { role: 'assistant', content: 'Done.' },
    ],
    tools: [{ type: 'function', function: { name: 'lookup_order', description: 'Look an order up', parameters: { type: 'object' } } }],
  };
  assert.deepEqual(chatLineProblems(good), []);
  assert.match(chatLineProblems({ ...good, messages: good.messages.slice(0, 4) }).join(), /last message is the assistant/);
  assert.match(chatLineProblems({ ...good, messages: [good.messages[0], { role: 'tool', tool_call_id: 'call_9', content: 'x' }, good.messages[4]] }).join(), /tool_call_id an earlier assistant message made/);
  assert.match(chatLineProblems({ messages: [{ role: 'robot', content: 'x' }, { role: 'assistant', content: 'y' }] }).join(), /role is system, user, assistant or tool/);
  assert.match(chatLineProblems({ ...good, tools: [{ type: 'function', function: { name: 'other' } }] }).join(), /calls lookup_order, which tools does not declare/);
  assert.match(chatLineProblems({ messages: [], extra: 1 }).join(), /unexpected key extra.*messages is a non-empty array/);
});
