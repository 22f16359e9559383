import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JsonValue } from '../../spec/index.ts';
import { sampleFromSchema, seededRandom, SimulatorModel } from './index.ts';

const order: JsonValue = {
  type: 'object',
  properties: {
    orderId: { type: 'string', minLength: 6, maxLength: 10 },
    status: { enum: ['open', 'shipped', 'refunded'] },
    amountCents: { type: 'integer', minimum: 100, maximum: 500 },
    rating: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 5 },
    gift: { type: 'boolean' },
    note: { type: ['string', 'null'] },
    lines: { type: 'array', minItems: 2, maxItems: 4, items: { $ref: '#/$defs/line' } },
    placedAt: { type: 'string', format: 'date-time' },
    contact: { type: 'string', format: 'email' },
    channel: { const: 'web' },
    payment: { anyOf: [{ type: 'object', properties: { card: { type: 'string' } }, required: ['card'] }, { type: 'null' }] },
  },
  required: ['orderId', 'status', 'amountCents', 'lines', 'legacyCode'],
  $defs: { line: { type: 'object', properties: { sku: { type: 'string' }, quantity: { type: 'integer', minimum: 1, maximum: 3 } }, required: ['sku', 'quantity'] } },
};

test('a sample follows the schema: types, required, enum, const, bounds, items, refs, formats', () => {
  for (let seed = 0; seed < 200; seed += 1) {
    const value = sampleFromSchema(order, seededRandom(seed)) as Record<string, JsonValue>;
    assert.equal(typeof value.orderId, 'string');
    assert.ok((value.orderId as string).length >= 6 && (value.orderId as string).length <= 10, `orderId ${JSON.stringify(value.orderId)}`);
    assert.ok(['open', 'shipped', 'refunded'].includes(value.status as string));
    assert.ok(Number.isInteger(value.amountCents) && (value.amountCents as number) >= 100 && (value.amountCents as number) <= 500);
    assert.ok((value.rating as number) > 0 && (value.rating as number) < 5);
    assert.equal(typeof value.gift, 'boolean');
    assert.equal(typeof value.note, 'string', 'a nullable type is filled with its concrete type');
    const lines = value.lines as { sku: string; quantity: number }[];
    assert.ok(lines.length >= 2 && lines.length <= 4);
    for (const line of lines) {
      assert.equal(typeof line.sku, 'string');
      assert.ok(Number.isInteger(line.quantity) && line.quantity >= 1 && line.quantity <= 3);
    }
    assert.ok(!Number.isNaN(Date.parse(value.placedAt as string)));
    assert.match(value.contact as string, /^[a-z]+@example\.com$/);
    assert.equal(value.channel, 'web');
    assert.ok(value.payment === null || typeof (value.payment as { card?: unknown }).card === 'string');
    assert.equal(typeof value.legacyCode, 'string', 'required without a schema is still present');
  }
});

test('the same seed gives the same sample; other seeds give others', () => {
  const first = JSON.stringify(sampleFromSchema(order, seededRandom(7)));
  assert.equal(JSON.stringify(sampleFromSchema(order, seededRandom(7))), first);
  assert.notEqual(JSON.stringify(sampleFromSchema(order, seededRandom(8))), first);
});

test('allOf merges, a recursive ref terminates, an empty schema gives a string', () => {
  const merged = sampleFromSchema({ allOf: [{ type: 'object', properties: { a: { type: 'integer' } } }, { properties: { b: { type: 'boolean' } }, required: ['b'] }] }, seededRandom(1));
  assert.deepEqual(Object.keys(merged as object), ['a', 'b']);
  const tree: JsonValue = { $ref: '#/$defs/node', $defs: { node: { type: 'object', properties: { child: { $ref: '#/$defs/node' } } } } };
  assert.doesNotThrow(() => sampleFromSchema(tree, seededRandom(1)));
  assert.equal(typeof sampleFromSchema({}, seededRandom(1)), 'string');
});

test('structured output: schema-following JSON from a text script, the script’s own JSON kept, plain JSON mode wraps text', async () => {
  const model = new SimulatorModel({ seed: 4 });
  const messages = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Classify this order.' }] }];
  const answer = await model.doGenerate({ messages, responseFormat: { type: 'json', schema: order } });
  const part = answer.content[0];
  assert.ok(part?.type === 'text');
  const parsed = JSON.parse(part.text) as Record<string, unknown>;
  for (const key of ['orderId', 'status', 'amountCents', 'lines', 'legacyCode']) assert.ok(key in parsed, `required ${key}`);
  assert.ok(['open', 'shipped', 'refunded'].includes(parsed.status as string));

  const scripted = new SimulatorModel({ script: () => ({ type: 'text', text: '{"verdict":"refund"}' }) });
  const own = (await scripted.doGenerate({ messages, responseFormat: { type: 'json', schema: order } })).content[0];
  assert.deepEqual(own, { type: 'text', text: '{"verdict":"refund"}' });

  const wrapped = (await model.doGenerate({ messages, responseFormat: { type: 'json' } })).content[0];
  assert.ok(wrapped?.type === 'text');
  assert.deepEqual(JSON.parse(wrapped.text), { text: 'Acknowledged: Classify this order.' });
});
