import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { KeelError } from '../errors/index.ts';
import type { ContractValidation } from './index.ts';
import { defineOutputContract, lowConfidenceViolation } from './index.ts';

const refund = defineOutputContract({
  name: 'refund-decision',
  version: '1',
  schema: z.object({
    decision: z.enum(['approve', 'deny']),
    amountCents: z.number().int().min(0).max(5000),
    orderTotalCents: z.number().int().min(0),
    reason: z.string().min(3),
    note: z.string().nullable(),
    confidence: z.number().min(0).max(1),
  }),
  crossFieldRules: [
    {
      id: 'refund-within-order',
      path: 'amountCents',
      check: (value) => value.amountCents <= value.orderTotalCents || `refund ${value.amountCents} exceeds the order total ${value.orderTotalCents}`,
    },
  ],
  confidence: { field: 'confidence', minimum: 0.7 },
});

const valid = { decision: 'approve', amountCents: 1200, orderTotalCents: 3000, reason: 'item arrived damaged', note: null, confidence: 0.9 };

function violationsOf<Value>(validation: ContractValidation<Value>) {
  assert.equal(validation.ok, false, 'expected violations');
  return validation.ok ? [] : validation.violations;
}

describe('validate', () => {
  test('a valid value passes with its confidence', () => {
    assert.deepEqual(refund.validate(valid), { ok: true, value: valid, confidence: 0.9 });
    assert.deepEqual(refund.validate(JSON.stringify(valid)), { ok: true, value: valid, confidence: 0.9 });
  });

  test('a required field that is missing is missing-field, naming the type it must be', () => {
    const { reason: _reason, ...rest } = valid;
    assert.deepEqual(violationsOf(refund.validate(rest)), [{ path: '$.reason', code: 'missing-field', message: 'required field is missing (expected string)' }]);
  });

  test('a renamed field is missing-field that names the unexpected field (schema drift)', () => {
    const { reason, ...rest } = valid;
    assert.deepEqual(violationsOf(refund.validate({ ...rest, rationale: reason })), [
      { path: '$.reason', code: 'missing-field', message: 'required field is missing (expected string); the object has fields the contract does not name: "rationale"' },
    ]);
  });

  test('wrong types name what was expected and what was written', () => {
    assert.deepEqual(violationsOf(refund.validate({ ...valid, amountCents: 12.5, note: 3, reason: ['x'] })), [
      { path: '$.amountCents', code: 'wrong-type', message: 'expected integer, got number 12.5' },
      { path: '$.reason', code: 'wrong-type', message: 'expected string, got an array of 1' },
      { path: '$.note', code: 'wrong-type', message: 'expected string or null, got integer 3' },
    ]);
  });

  test('ranges: numbers, string lengths, list lengths', () => {
    assert.deepEqual(violationsOf(refund.validate({ ...valid, amountCents: 9000, reason: 'no' })), [
      { path: '$.amountCents', code: 'out-of-range', message: 'must be <= 5000, got 9000' },
      { path: '$.reason', code: 'out-of-range', message: 'must have at least 3 characters, got 2' },
    ]);
    const lists = defineOutputContract({ name: 'lists', version: '1', schema: z.object({ tags: z.array(z.string()).min(1).max(2), score: z.number().gt(0) }) });
    assert.deepEqual(violationsOf(lists.validate({ tags: [], score: 0 })), [
      { path: '$.tags', code: 'out-of-range', message: 'must have at least 1 item, got 0' },
      { path: '$.score', code: 'out-of-range', message: 'must be > 0, got 0' },
    ]);
  });

  test('enumerations: not-in-enum lists the allowed values; a missing one is missing-field', () => {
    assert.deepEqual(violationsOf(refund.validate({ ...valid, decision: 'maybe' })), [
      { path: '$.decision', code: 'not-in-enum', message: 'must be one of "approve", "deny", got "maybe"' },
    ]);
    const { decision: _decision, ...rest } = valid;
    assert.deepEqual(violationsOf(refund.validate(rest)), [
      { path: '$.decision', code: 'missing-field', message: 'required field is missing (expected one of "approve", "deny")' },
    ]);
  });

  test('cross-field rules run once the schema passes and name their rule', () => {
    assert.deepEqual(violationsOf(refund.validate({ ...valid, amountCents: 4000 })), [
      { path: '$.amountCents', code: 'cross-field', message: 'refund 4000 exceeds the order total 3000 (rule refund-within-order)', rule: 'refund-within-order' },
    ]);
  });

  test('confidence under the minimum is flagged on a valid result, not a violation', () => {
    const validation = refund.validate({ ...valid, confidence: 0.4 });
    assert.deepEqual(validation, { ok: true, value: { ...valid, confidence: 0.4 }, confidence: 0.4, lowConfidence: { field: 'confidence', value: 0.4, minimum: 0.7 } });
    assert.ok(validation.ok && validation.lowConfidence !== undefined);
    assert.deepEqual(lowConfidenceViolation(validation.lowConfidence), { path: '$.confidence', code: 'low-confidence', message: 'confidence 0.4 is below the minimum 0.7' });
  });

  test('nested paths, unions, discriminated unions and strict objects', () => {
    const contract = defineOutputContract({
      name: 'shapes',
      version: '1',
      schema: z.strictObject({
        items: z.array(z.object({ sku: z.string().regex(/^A-\d+$/), email: z.email() })),
        id: z.union([z.string(), z.number()]),
        shape: z.discriminatedUnion('kind', [z.object({ kind: z.literal('circle'), radius: z.number() }), z.object({ kind: z.literal('square'), side: z.number() })]),
        step: z.number().multipleOf(5),
      }),
    });
    assert.deepEqual(violationsOf(contract.validate({ items: [{ sku: 'B-1', email: 'nope' }], id: true, shape: { kind: 'oval' }, step: 7, extra: 1 })), [
      { path: '$.items[0].sku', code: 'invalid-format', message: 'must match the pattern /^A-\\d+$/, got "B-1"' },
      { path: '$.items[0].email', code: 'invalid-format', message: 'must be an email address, got "nope"' },
      { path: '$.id', code: 'wrong-type', message: 'expected string or number, got boolean true' },
      { path: '$.shape.kind', code: 'not-in-enum', message: 'must be one of "circle", "square", got "oval"' },
      { path: '$.step', code: 'invalid-value', message: 'must be a multiple of 5, got 7' },
      { path: '$.extra', code: 'unknown-field', message: 'field is not in the contract (allowed: items, id, shape, step)' },
    ]);
  });

  describe('JSON text', () => {
    const cases: [string, string][] = [
      ['', 'not valid JSON: the answer is empty; expected a JSON value'],
      ['{"decision": "appr', 'not valid JSON: the text ends inside a string, before the JSON value is complete'],
      ['{"decision": "approve", "items": [1, 2', 'not valid JSON: the text ends before the JSON value is complete (2 unclosed brackets)'],
      ['Here is the answer: {"decision": "approve"}', 'not valid JSON: it starts with text that is not JSON; reply with the JSON value only'],
      ['{"decision": "approve"} Hope this helps!', 'not valid JSON: there is text after the JSON value; reply with the JSON value only'],
      ['{"decision": "approve",}', 'not valid JSON: a syntax error inside the value (such as a missing comma, colon or quote, or a trailing comma)'],
    ];
    for (const [text, message] of cases) {
      test(`json-invalid, not an exception: ${JSON.stringify(text)}`, () => {
        assert.deepEqual(violationsOf(refund.validateText(text)), [{ path: '$', code: 'json-invalid', message }]);
      });
    }

    test('one ```json fence around the value is accepted', () => {
      assert.equal(refund.validate(`\`\`\`json\n${JSON.stringify(valid, null, 2)}\n\`\`\``).ok, true);
    });

    test('validateValue reads a string as a value, not as JSON text', () => {
      assert.deepEqual(violationsOf(refund.validateValue('{}')), [{ path: '$', code: 'wrong-type', message: 'expected object, got string "{}"' }]);
    });
  });
});

describe('jsonSchema', () => {
  test('carries required fields, enumerations, ranges and no unknown fields', () => {
    const schema = refund.jsonSchema;
    assert.equal(schema.type, 'object');
    assert.equal(schema.$schema, undefined);
    assert.deepEqual(schema.required, ['decision', 'amountCents', 'orderTotalCents', 'reason', 'note', 'confidence']);
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(schema.properties, {
      decision: { type: 'string', enum: ['approve', 'deny'] },
      amountCents: { type: 'integer', minimum: 0, maximum: 5000 },
      orderTotalCents: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
      reason: { type: 'string', minLength: 3 },
      note: { type: ['string', 'null'] },
      confidence: { type: 'number', minimum: 0, maximum: 1 },
    });
  });
});

describe('defineOutputContract refuses a contract no model could meet', () => {
  const schema = z.object({ score: z.number(), label: z.string() });
  const cases: [string, () => unknown, RegExp][] = [
    ['a name providers reject', () => defineOutputContract({ name: 'refund decision', version: '1', schema }), /must be 1-64 letters/],
    ['a schema that is not an object', () => defineOutputContract({ name: 'bare', version: '1', schema: z.string() }), /must describe an object/],
    ['a schema JSON Schema cannot express', () => defineOutputContract({ name: 'dated', version: '1', schema: z.object({ at: z.date() }) }), /cannot be written as JSON Schema/],
    ['a confidence field the schema lacks', () => defineOutputContract({ name: 'c', version: '1', schema, confidence: { field: 'certainty', minimum: 0.5 } }), /has no such field/],
    ['a confidence field that is not a number', () => defineOutputContract({ name: 'c', version: '1', schema, confidence: { field: 'label', minimum: 0.5 } }), /must be a number in the schema/],
    ['a confidence minimum outside 0..1', () => defineOutputContract({ name: 'c', version: '1', schema, confidence: { field: 'score', minimum: 70 } }), /from 0 to 1/],
    ['two rules with one id', () => defineOutputContract({ name: 'c', version: '1', schema, crossFieldRules: [{ id: 'a', check: () => true }, { id: 'a', check: () => true }] }), /used twice/],
  ];
  for (const [what, define, message] of cases) {
    test(what, () => {
      assert.throws(define, (error: unknown) => error instanceof KeelError && error.code === 'usage-invalid' && message.test(error.message));
    });
  }
});
