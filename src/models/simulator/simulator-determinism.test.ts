import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from '../../journal/index.ts';
import type { GenerateOptionsV1, JsonValue, StreamPartV1 } from '../../spec/index.ts';
import type { SimulatorOptions } from './index.ts';
import { SimulatorModel } from './index.ts';

const schema: JsonValue = {
  type: 'object',
  properties: { title: { type: 'string' }, score: { type: 'number', minimum: 0, maximum: 1 }, tags: { type: 'array', items: { type: 'string' } } },
  required: ['title', 'score', 'tags'],
};

const request: GenerateOptionsV1 = {
  messages: [
    { role: 'system', content: 'Summarise the ticket.' },
    { role: 'user', content: [{ type: 'text', text: 'My parcel arrived late and the box was crushed.' }] },
  ],
  responseFormat: { type: 'json', schema },
};

async function streamed(model: SimulatorModel, options: GenerateOptionsV1): Promise<StreamPartV1[]> {
  const parts: StreamPartV1[] = [];
  for await (const part of (await model.doStream(options)).stream) parts.push(part);
  return parts;
}

/** Everything a fresh model says over a few calls, as bytes. */
async function transcript(options: SimulatorOptions): Promise<string> {
  const model = new SimulatorModel(options);
  const answers: unknown[] = [];
  for (let call = 0; call < 12; call += 1) {
    try {
      answers.push(await model.doGenerate(request));
      answers.push(await streamed(model, request));
    } catch (error) {
      answers.push((error as { code?: string }).code);
    }
  }
  return canonicalJson(answers);
}

test('same seed and conversation: identical bytes, generate and stream', async () => {
  assert.equal(await transcript({ seed: 42 }), await transcript({ seed: 42 }));
  const first = await new SimulatorModel({ seed: 42 }).doGenerate(request);
  const again = await new SimulatorModel({ seed: 42 }).doGenerate(request);
  assert.equal(canonicalJson(first), canonicalJson(again));
});

test('different seeds differ where randomness is used: structured output, ids, fault draws', async () => {
  const [one, two] = await Promise.all([new SimulatorModel({ seed: 1 }).doGenerate(request), new SimulatorModel({ seed: 2 }).doGenerate(request)]);
  assert.notEqual(one.response.id, two.response.id);
  assert.notDeepEqual(one.content, two.content, 'the schema sample is drawn from the seed');
  const faults: SimulatorOptions['faults'] = [{ on: { probability: 0.5 }, fault: { type: 'server-error' } }];
  const seedOne = await transcript({ seed: 1, faults });
  assert.equal(seedOne, await transcript({ seed: 1, faults }));
  assert.notEqual(seedOne, await transcript({ seed: 2, faults }));
});

test('the flaky profile fails the same calls every time it replays a scenario', async () => {
  const runs = await Promise.all([transcript({ profile: 'flaky', seed: 9 }), transcript({ profile: 'flaky', seed: 9 })]);
  assert.equal(runs[0], runs[1]);
});

test('stream and generate agree: deltas reassemble into the same content, usage and finish', async () => {
  const model = new SimulatorModel({
    seed: 3,
    script: () => ({ type: 'tool-calls', text: 'Checking the order status for you now.', calls: [{ toolName: 'lookup_order', input: { orderId: 'A-1001', verbose: true } }] }),
  });
  const plain: GenerateOptionsV1 = { messages: [{ role: 'user', content: [{ type: 'text', text: 'Where is A-1001?' }] }] };
  const generated = await model.doGenerate(plain);
  const parts = await streamed(model, plain);
  assert.equal(parts[0]?.type, 'response-start');
  assert.equal(parts.at(-1)?.type, 'finish');
  const text = parts.flatMap((part) => (part.type === 'text-delta' ? [part.delta] : [])).join('');
  assert.ok(parts.filter((part) => part.type === 'text-delta').length > 3, 'text arrives in small deltas');
  const argumentsText = parts.flatMap((part) => (part.type === 'tool-call-delta' ? [part.inputDelta] : [])).join('');
  assert.ok(parts.filter((part) => part.type === 'tool-call-delta').length > 1, 'arguments arrive in pieces');
  const call = parts.find((part) => part.type === 'tool-call');
  assert.ok(parts.findIndex((part) => part.type === 'tool-call') > parts.findLastIndex((part) => part.type === 'tool-call-delta'));
  assert.deepEqual([{ type: 'text', text }, call], generated.content);
  assert.deepEqual(JSON.parse(argumentsText), { orderId: 'A-1001', verbose: true });
  const finish = parts.at(-1);
  assert.ok(finish?.type === 'finish');
  assert.deepEqual(finish.usage, generated.usage);
  assert.equal(finish.finishReason, 'tool-calls');
});

test('an unknown profile and a prompt beyond the context window are clear errors', async () => {
  assert.throws(() => new SimulatorModel({ profile: 'gigantic' }), /unknown simulator profile sim:gigantic/);
  // About 48k tokens of ordinary words: over sim:fast's 32k window.
  const huge = 'lorem ipsum dolor sit amet, '.repeat(8_000);
  await assert.rejects(new SimulatorModel({ profile: 'fast' }).doGenerate({ messages: [{ role: 'user', content: [{ type: 'text', text: huge }] }] }), {
    name: 'ModelCallError',
    code: 'model-context-exceeded',
  });
});
