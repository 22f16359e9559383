import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { KeelError } from '../errors/index.ts';
import type { SimulatorOptions, SimulatorScript } from '../models/index.ts';
import { SimulatorModel } from '../models/index.ts';
import type { GenerateOptionsV1, GenerateResultV1, LanguageModelV1, MessageV1 } from '../spec/index.ts';
import type { ContractCheck, ContractModelCall } from './index.ts';
import { ContractViolationError, defineOutputContract, generateWithContract, modelSteps } from './index.ts';

const decision = defineOutputContract({
  name: 'refund-decision',
  version: '1',
  schema: z.object({
    decision: z.enum(['approve', 'deny']),
    amountCents: z.number().int().min(0).max(5000),
    reason: z.string().min(3),
  }),
});

const request: GenerateOptionsV1 = { messages: [{ role: 'user', content: [{ type: 'text', text: 'Order A-1001 arrived damaged. Decide the refund.' }] }] };

/** The call a task would pass, recording each step and request as the engine would journal them. */
function recorded(options: SimulatorOptions = {}) {
  const model = new SimulatorModel({ profile: 'default', ...options });
  const steps: { name: string; request: GenerateOptionsV1; result: GenerateResultV1 }[] = [];
  const call: ContractModelCall = async (name, stepRequest) => {
    const result = await model.doGenerate(stepRequest);
    steps.push({ name, request: stepRequest, result });
    return result;
  };
  return { call, steps };
}

/** A scenario that writes these JSON answers in turn (the simulator passes a script's own JSON through). */
function answers(...values: unknown[]): SimulatorScript {
  return ({ call }) => ({ type: 'text', text: JSON.stringify(values[Math.min(call, values.length) - 1]) });
}

function textOf(message: MessageV1 | undefined): string {
  if (message === undefined || message.role === 'system' || message.role === 'tool') return '';
  return message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

function answerText(result: GenerateResultV1): string {
  return result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

describe('generateWithContract', () => {
  test('valid structured output passes on the first call, asked for natively', async () => {
    const { call, steps } = recorded();
    const result = await generateWithContract(call, request, decision, { label: 'decide' });
    assert.equal(steps.length, 1);
    assert.equal(steps[0]?.name, 'decide');
    assert.deepEqual(steps[0]?.request.responseFormat, { type: 'json', schema: decision.jsonSchema, name: 'refund-decision' });
    assert.equal(result.repairs, 0);
    assert.deepEqual(result.violationsSeen, []);
    assert.deepEqual(result.value, JSON.parse(answerText(steps[0].result)));
    assert.equal(decision.validate(result.value).ok, true);
  });

  test('malformed JSON on call 1 is repaired on call 2 with the answer and the violation', async () => {
    const { call, steps } = recorded({ faults: [{ on: { calls: [1] }, fault: { type: 'malformed-json' } }] });
    const result = await generateWithContract(call, request, decision, { label: 'decide' });
    assert.deepEqual(steps.map((step) => step.name), ['decide', 'decide-repair-1']);
    assert.equal(result.repairs, 1);
    assert.equal(result.violationsSeen[0]?.violations[0]?.code, 'json-invalid');

    const broken = answerText(steps[0]?.result ?? assert.fail());
    const repair = steps[1]?.request ?? assert.fail();
    assert.deepEqual(repair.responseFormat, steps[0]?.request.responseFormat, 'repairs still ask for native structured output');
    assert.deepEqual(repair.messages.slice(0, -2), request.messages, 'the original conversation comes first');
    const [previous, instruction] = repair.messages.slice(-2);
    assert.deepEqual(previous, { role: 'assistant', content: [{ type: 'text', text: broken }] });
    assert.equal(instruction?.role, 'user');
    assert.equal(
      textOf(instruction),
      [
        'Your previous answer violated the output contract refund-decision (version 1):',
        `- $ (json-invalid): ${result.violationsSeen[0]?.violations[0]?.message}`,
        'Reply with corrected JSON only.',
      ].join('\n'),
    );
    assert.match(textOf(instruction), /not valid JSON: the text ends/);
  });

  test('schema drift after call 1 is caught as missing-field and repaired', async () => {
    const { call, steps } = recorded({ faults: [{ on: { calls: [2] }, fault: { type: 'schema-drift', rename: { from: 'reason', to: 'rationale' } } }] });
    const first = await generateWithContract(call, request, decision, { label: 'decide' });
    assert.equal(first.repairs, 0);
    const second = await generateWithContract(call, request, decision, { label: 'decide-again' });
    assert.deepEqual(steps.map((step) => step.name), ['decide', 'decide-again', 'decide-again-repair-1']);
    assert.deepEqual(second.violationsSeen, [
      {
        step: 'decide-again',
        violations: [{ path: '$.reason', code: 'missing-field', message: 'required field is missing (expected string); the object has fields the contract does not name: "rationale"' }],
      },
    ]);
    assert.equal(second.repairs, 1);
    assert.equal(typeof second.value.reason, 'string');
  });

  test('a spent repair budget throws ContractViolationError with the violations', async () => {
    const { call, steps } = recorded({ faults: [{ on: { afterCall: 0 }, fault: { type: 'schema-drift', drop: ['decision'] } }] });
    const checks: ContractCheck[] = [];
    const error = await generateWithContract(call, request, decision, { label: 'decide', onCheck: (check) => checks.push(check) }).then(
      () => assert.fail('expected a ContractViolationError'),
      (thrown: unknown) => thrown,
    );
    assert.ok(error instanceof ContractViolationError);
    assert.ok(error instanceof KeelError);
    assert.equal(error.code, 'output-contract-violated');
    assert.equal(error.isRetryable, false);
    assert.deepEqual(steps.map((step) => step.name), ['decide', 'decide-repair-1', 'decide-repair-2']);
    const missing = { path: '$.decision', code: 'missing-field', message: 'required field is missing (expected one of "approve", "deny")' };
    assert.deepEqual(error.violations, [missing]);
    assert.deepEqual(error.attempts.map((attempt) => attempt.step), ['decide', 'decide-repair-1', 'decide-repair-2']);
    assert.equal(error.message, 'output contract refund-decision@1 still violated after 3 answers: $.decision (missing-field): required field is missing (expected one of "approve", "deny")');
    assert.deepEqual(error.toData().details?.violations, [missing]);
    assert.deepEqual(checks.map((check) => check.violations.length), [1, 1, 1]);
  });

  test('maxRepairs bounds the re-asks; 0 validates without repairing', async () => {
    const { call, steps } = recorded({ faults: [{ on: { calls: [1] }, fault: { type: 'malformed-json' } }] });
    await assert.rejects(generateWithContract(call, request, decision, { maxRepairs: 0 }), ContractViolationError);
    assert.deepEqual(steps.map((step) => step.name), ['refund-decision']);
    await assert.rejects(generateWithContract(call, request, decision, { maxRepairs: -1 }), (error: unknown) => error instanceof KeelError && error.code === 'usage-invalid');
  });

  test('out-of-range and enum violations are reported precisely and repaired', async () => {
    const script = answers({ decision: 'maybe', amountCents: 9000, reason: 'damaged' }, { decision: 'approve', amountCents: 4000, reason: 'damaged' });
    const { call, steps } = recorded({ script });
    const result = await generateWithContract(call, request, decision, { label: 'decide' });
    assert.deepEqual(result.value, { decision: 'approve', amountCents: 4000, reason: 'damaged' });
    const violations = [
      { path: '$.decision', code: 'not-in-enum', message: 'must be one of "approve", "deny", got "maybe"' },
      { path: '$.amountCents', code: 'out-of-range', message: 'must be <= 5000, got 9000' },
    ];
    assert.deepEqual(result.violationsSeen, [{ step: 'decide', violations }]);
    const instruction = textOf(steps[1]?.request.messages.at(-1));
    assert.match(instruction, /- \$\.decision \(not-in-enum\): must be one of "approve", "deny", got "maybe"\n- \$\.amountCents \(out-of-range\): must be <= 5000, got 9000\n/);
  });

  test('a cross-field rule (refund no larger than the order) is checked and repaired', async () => {
    const withOrder = defineOutputContract({
      name: 'refund-against-order',
      version: '2',
      schema: z.object({ amountCents: z.number().int().min(0), orderTotalCents: z.number().int().min(0) }),
      crossFieldRules: [
        {
          id: 'refund-within-order',
          path: 'amountCents',
          check: (value) => value.amountCents <= value.orderTotalCents || `refund ${value.amountCents} exceeds the order total ${value.orderTotalCents}`,
        },
      ],
    });
    const { call, steps } = recorded({ script: answers({ amountCents: 4000, orderTotalCents: 3000 }, { amountCents: 3000, orderTotalCents: 3000 }) });
    const result = await generateWithContract(call, request, withOrder, { label: 'refund' });
    assert.deepEqual(result.value, { amountCents: 3000, orderTotalCents: 3000 });
    assert.deepEqual(result.violationsSeen[0]?.violations, [
      { path: '$.amountCents', code: 'cross-field', message: 'refund 4000 exceeds the order total 3000 (rule refund-within-order)', rule: 'refund-within-order' },
    ]);
    assert.match(textOf(steps[1]?.request.messages.at(-1)), /refund 4000 exceeds the order total 3000/);
  });

  test('confidence under the threshold is flagged and not re-asked', async () => {
    const assessed = defineOutputContract({
      name: 'assessed-decision',
      version: '1',
      schema: z.object({ decision: z.enum(['approve', 'deny']), assessment: z.object({ confidence: z.number().min(0).max(1) }) }),
      confidence: { field: 'assessment.confidence', minimum: 0.7 },
    });
    const { call, steps } = recorded({ script: answers({ decision: 'approve', assessment: { confidence: 0.4 } }) });
    const checks: ContractCheck[] = [];
    const result = await generateWithContract(call, request, assessed, { onCheck: (check) => checks.push(check) });
    assert.equal(steps.length, 1);
    assert.equal(result.repairs, 0);
    assert.equal(result.confidence, 0.4);
    assert.deepEqual(result.lowConfidence, { field: 'assessment.confidence', value: 0.4, minimum: 0.7 });
    assert.deepEqual(checks, [{ step: 'assessed-decision', contract: 'assessed-decision', contractVersion: '1', violations: [], lowConfidence: { field: 'assessment.confidence', value: 0.4, minimum: 0.7 } }]);
  });

  test('an answer with only tool calls is no-output and re-asked without replaying the calls', async () => {
    const script: SimulatorScript = ({ call }) =>
      call === 1 ? { type: 'tool-calls', calls: [{ toolName: 'lookup_order', input: { orderId: 'A-1001' } }] } : { type: 'text', text: 'ok' };
    const { call, steps } = recorded({ script });
    const result = await generateWithContract(call, request, decision);
    assert.deepEqual(result.violationsSeen[0]?.violations, [{ path: '$', code: 'no-output', message: 'the answer has only tool calls; expected a JSON value as text' }]);
    assert.deepEqual(steps[1]?.request.messages.map((message) => message.role), ['user', 'user']);
  });

  test('a refusal is thrown as model-refused, not repaired', async () => {
    const { call, steps } = recorded({ faults: [{ on: { calls: [1] }, fault: { type: 'refusal', message: 'I cannot decide refunds.' } }] });
    await assert.rejects(generateWithContract(call, request, decision), (error: unknown) => error instanceof KeelError && error.code === 'model-refused' && /I cannot decide refunds/.test(error.message));
    assert.equal(steps.length, 1);
  });

  test('JSON cut off at the output token limit says so', async () => {
    const truncated: ContractModelCall = async () => ({
      content: [{ type: 'text', text: '{"decision": "approve", "reason": "the item' }],
      finishReason: 'length',
      usage: { inputTokens: 10, outputTokens: 10 },
      response: { id: 'r', modelId: 'm' },
    });
    const error = await generateWithContract(truncated, request, decision, { maxRepairs: 0 }).catch((thrown: unknown) => thrown);
    assert.ok(error instanceof ContractViolationError);
    assert.equal(
      error.violations[0]?.message,
      'not valid JSON: the text ends inside a string, before the JSON value is complete (the answer stopped at the output token limit; make it shorter)',
    );
  });

  test('modelSteps makes each attempt a named model step of the run', async () => {
    const model = new SimulatorModel({ faults: [{ on: { calls: [1] }, fault: { type: 'malformed-json' } }] });
    const journaled: string[] = [];
    const context = {
      model: async (name: string, stepModel: LanguageModelV1, options: GenerateOptionsV1) => {
        journaled.push(`${name}:${stepModel.provider}:${stepModel.modelId}`);
        return stepModel.doGenerate(options);
      },
    };
    await generateWithContract(modelSteps(context, model), request, decision, { label: 'decide' });
    assert.deepEqual(journaled, ['decide:sim:default', 'decide-repair-1:sim:default']);
  });

  test('the same scenario gives the same attempts and violations (replay)', async () => {
    const run = async () => {
      const { call, steps } = recorded({ seed: 7, faults: [{ on: { calls: [1] }, fault: { type: 'malformed-json' } }] });
      const result = await generateWithContract(call, request, decision);
      return { result, requests: steps.map((step) => step.request) };
    };
    assert.deepEqual(await run(), await run());
  });
});
