import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GenerateOptionsV1, JsonValue, StreamPartV1 } from '../../spec/index.ts';
import type { Fault, FaultPlan, SimulatorOptions } from './index.ts';
import { parseFaultPlan, SimulatorModel } from './index.ts';
import { faultForCall } from './simulator-faults.ts';

const question: GenerateOptionsV1 = { messages: [{ role: 'user', content: [{ type: 'text', text: 'Is order A-1001 refundable?' }] }] };

const schema: JsonValue = {
  type: 'object',
  properties: { orderId: { type: 'string' }, refundable: { type: 'boolean' }, amountCents: { type: 'integer', minimum: 0, maximum: 10_000 } },
  required: ['orderId', 'refundable', 'amountCents'],
};
const structured: GenerateOptionsV1 = { ...question, responseFormat: { type: 'json', schema } };

/** A model whose every call carries `fault`, and the faults it reports. */
function faulty(fault: Fault, options: SimulatorOptions = {}): { model: SimulatorModel; reported: [Fault, number][] } {
  const reported: [Fault, number][] = [];
  const model = new SimulatorModel({ seed: 5, ...options, faults: [{ on: { afterCall: 0 }, fault }], onFault: (injected, call) => reported.push([injected, call]) });
  return { model, reported };
}

async function collect(stream: AsyncIterable<StreamPartV1>): Promise<{ parts: StreamPartV1[]; error: unknown }> {
  const parts: StreamPartV1[] = [];
  try {
    for await (const part of stream) parts.push(part);
    return { parts, error: undefined };
  } catch (error) {
    return { parts, error };
  }
}

describe('each fault does what it declares', () => {
  test('timeout: no answer until the caller aborts, then model-timeout; without a signal, after hangMs', async () => {
    const { model, reported } = faulty({ type: 'timeout' });
    const began = performance.now();
    await assert.rejects(model.doGenerate({ ...question, abortSignal: AbortSignal.timeout(30) }), { name: 'ModelCallError', code: 'model-timeout' });
    assert.ok(performance.now() - began >= 25, 'it waited for the signal');
    await assert.rejects(model.doStream({ ...question, abortSignal: AbortSignal.timeout(10) }), { code: 'model-timeout' });
    const unbounded = faulty({ type: 'timeout', hangMs: 20 }).model;
    await assert.rejects(unbounded.doGenerate(question), { code: 'model-timeout' });
    assert.deepEqual(reported, [
      [{ type: 'timeout' }, 1],
      [{ type: 'timeout' }, 2],
    ]);
  });

  test('slow-first-token: the answer comes, after the delay; in a stream the delay precedes the first delta', async () => {
    const { model } = faulty({ type: 'slow-first-token', delayMs: 40 });
    let began = performance.now();
    const answer = await model.doGenerate(question);
    assert.ok(performance.now() - began >= 35);
    assert.equal(answer.finishReason, 'stop');
    began = performance.now();
    const times: [string, number][] = [];
    for await (const part of (await model.doStream(question)).stream) times.push([part.type, performance.now() - began]);
    assert.ok((times[0]?.[1] ?? Infinity) < 30, 'response-start comes at once');
    assert.ok((times[1]?.[1] ?? 0) >= 35, 'the first delta waits');
  });

  test('server-error: model-server-error with its status, before any stream', async () => {
    await assert.rejects(faulty({ type: 'server-error' }).model.doGenerate(question), { code: 'model-server-error', status: 500, isRetryable: true });
    await assert.rejects(faulty({ type: 'server-error', status: 502 }).model.doStream(question), { code: 'model-server-error', status: 502 });
  });

  test('rate-limit: model-rate-limited, status 429, with the declared retryAfterMs', async () => {
    await assert.rejects(faulty({ type: 'rate-limit', retryAfterMs: 1_500 }).model.doGenerate(question), { code: 'model-rate-limited', status: 429, retryAfterMs: 1_500 });
  });

  test('overloaded: model-overloaded, status 529', async () => {
    await assert.rejects(faulty({ type: 'overloaded' }).model.doStream(question), { code: 'model-overloaded', status: 529 });
  });

  test('malformed-json: the JSON answer no longer parses; tool arguments arrive as raw text', async () => {
    const answer = await faulty({ type: 'malformed-json' }).model.doGenerate(structured);
    const text = answer.content[0]?.type === 'text' ? answer.content[0].text : '';
    assert.match(text, /^\{"orderId"/);
    assert.throws(() => JSON.parse(text) as unknown, SyntaxError);
    const script = () => ({ type: 'tool-calls' as const, calls: [{ toolName: 'issue_refund', input: { orderId: 'A-1001', amountCents: 4200 } }] });
    const call = (await faulty({ type: 'malformed-json' }, { script }).model.doGenerate(question)).content[0];
    assert.ok(call?.type === 'tool-call' && typeof call.input === 'string');
    assert.throws(() => JSON.parse(call.input as string) as unknown, SyntaxError);
  });

  test('malformed-json on a plain-text answer changes nothing and is not reported', async () => {
    const { model, reported } = faulty({ type: 'malformed-json' });
    assert.deepEqual(await model.doGenerate(question), await new SimulatorModel({ seed: 5 }).doGenerate(question));
    assert.deepEqual(reported, []);
  });

  test('truncated-stream: errors with model-stream-truncated after exactly afterParts parts, never finish', async () => {
    const { model } = faulty({ type: 'truncated-stream', afterParts: 3 });
    const { parts, error } = await collect((await model.doStream(question)).stream);
    assert.equal(parts.length, 3);
    assert.deepEqual(parts.map((part) => part.type), ['response-start', 'text-delta', 'text-delta']);
    assert.equal((error as { code?: string }).code, 'model-stream-truncated');
    await assert.rejects(model.doGenerate(question), { code: 'model-stream-truncated' });
    const long = await collect((await faulty({ type: 'truncated-stream', afterParts: 500 }).model.doStream(question)).stream);
    assert.equal(long.parts.at(-1)?.type === 'finish', false, 'cut before finish even when the answer is shorter');
    assert.equal((long.error as { code?: string }).code, 'model-stream-truncated');
  });

  test('refusal: finishReason refusal, the message in refusal, in generate and in the stream finish', async () => {
    const { model } = faulty({ type: 'refusal', message: 'I cannot help with that request.' });
    const answer = await model.doGenerate(question);
    assert.equal(answer.finishReason, 'refusal');
    assert.equal(answer.refusal, 'I cannot help with that request.');
    assert.deepEqual(answer.content, []);
    const { parts } = await collect((await model.doStream(question)).stream);
    assert.deepEqual(parts.at(-1), { type: 'finish', finishReason: 'refusal', usage: answer.usage, refusal: 'I cannot help with that request.' });
  });

  test('tool-loop: the same tool call on every turn, whatever the conversation says', async () => {
    const { model } = faulty({ type: 'tool-loop', toolName: 'lookup_order', input: { orderId: 'A-1001' } });
    const conversation: GenerateOptionsV1 = { messages: [...question.messages] };
    for (let turn = 0; turn < 4; turn += 1) {
      const answer = await model.doGenerate(conversation);
      assert.equal(answer.finishReason, 'tool-calls');
      const call = answer.content[0];
      assert.ok(call?.type === 'tool-call');
      assert.equal(call.toolName, 'lookup_order');
      assert.deepEqual(call.input, { orderId: 'A-1001' });
      conversation.messages.push({ role: 'assistant', content: answer.content });
      conversation.messages.push({ role: 'tool', content: [{ type: 'tool-result', toolCallId: call.toolCallId, toolName: 'lookup_order', output: { found: true } }] });
    }
  });
});

test('embeddings carry the fault plan, by the same call index as answers: a hang until the caller gives up, error statuses at once, a slow answer; faults that shape an answer are neither injected nor reported', async () => {
  const values = ['Where is A-1001?', 'Refund my order'];
  const hung = faulty({ type: 'timeout' });
  const caller = new AbortController();
  const pending = hung.model.doEmbed({ values, abortSignal: caller.signal });
  // The default profile answers at once: only a hang is still pending when the caller gives up.
  caller.abort(new Error('the caller gave up'));
  await assert.rejects(pending, { name: 'ModelCallError', code: 'model-timeout', message: /did not answer before the caller gave up \(injected timeout\)/ });
  assert.deepEqual(hung.reported, [[{ type: 'timeout' }, 1]]);

  await assert.rejects(faulty({ type: 'server-error', status: 502 }).model.doEmbed({ values }), { code: 'model-server-error', status: 502, isRetryable: true, requestId: 'req-sim-embed-1' });
  await assert.rejects(faulty({ type: 'rate-limit', retryAfterMs: 1_500 }).model.doEmbed({ values }), { code: 'model-rate-limited', status: 429, retryAfterMs: 1_500 });
  await assert.rejects(faulty({ type: 'overloaded' }).model.doEmbed({ values }), { code: 'model-overloaded', status: 529 });

  const slow = faulty({ type: 'slow-first-token', delayMs: 40 });
  const began = performance.now();
  const vectors = await slow.model.doEmbed({ values, dimensions: 4 });
  assert.ok(performance.now() - began >= 35, 'the vectors wait for the delay');
  assert.deepEqual(vectors.embeddings, (await new SimulatorModel({ seed: 5 }).doEmbed({ values, dimensions: 4 })).embeddings, 'and are the same vectors');
  assert.deepEqual(slow.reported, [[{ type: 'slow-first-token', delayMs: 40 }, 1]]);

  const refusing = faulty({ type: 'refusal', message: 'no' });
  assert.equal((await refusing.model.doEmbed({ values })).embeddings.length, 2);
  assert.deepEqual(refusing.reported, [], 'a refusal shapes an answer; an embedding has none to shape');

  // One call index for both kinds of call: the plan's second call is an embedding here.
  const model = new SimulatorModel({ faults: [{ on: { calls: [2] }, fault: { type: 'server-error' } }] });
  await model.doGenerate(question);
  await assert.rejects(model.doEmbed({ values }), { code: 'model-server-error' });
  assert.equal((await model.doEmbed({ values })).embeddings.length, 2);
});

test('schema-drift after call N: conforming JSON until then, renamed and dropped fields after', async () => {
  const reported: number[] = [];
  const model = new SimulatorModel({
    seed: 5,
    faults: [{ on: { afterCall: 2 }, fault: { type: 'schema-drift', rename: { from: 'orderId', to: 'order_id' }, drop: ['refundable'] } }],
    onFault: (_fault, call) => reported.push(call),
  });
  const outputs: Record<string, unknown>[] = [];
  for (let call = 0; call < 4; call += 1) {
    const part = (await model.doGenerate(structured)).content[0];
    outputs.push(JSON.parse(part?.type === 'text' ? part.text : 'null') as Record<string, unknown>);
  }
  for (const output of outputs.slice(0, 2)) assert.deepEqual(Object.keys(output), ['orderId', 'refundable', 'amountCents']);
  for (const output of outputs.slice(2)) {
    assert.deepEqual(Object.keys(output), ['order_id', 'amountCents']);
    assert.equal(output.order_id, outputs[0]?.orderId, 'the same answer, reshaped');
  }
  assert.deepEqual(reported, [3, 4]);
});

test('schema-drift with neither rename nor drop loses the first field', async () => {
  const part = (await faulty({ type: 'schema-drift' }).model.doGenerate(structured)).content[0];
  assert.deepEqual(Object.keys(JSON.parse(part?.type === 'text' ? part.text : '{}') as object), ['refundable', 'amountCents']);
});

test('triggers: calls, every, afterCall pick call indexes; first matching rule wins; onFault sees each', async () => {
  const reported: [string, number][] = [];
  const plan: FaultPlan = [
    { on: { calls: [1, 2] }, fault: { type: 'overloaded' } },
    { on: { every: 3 }, fault: { type: 'server-error' } },
    { on: { afterCall: 6 }, fault: { type: 'rate-limit', retryAfterMs: 10 } },
  ];
  const model = new SimulatorModel({ faults: plan, onFault: (fault, call) => reported.push([fault.type, call]) });
  const codes: string[] = [];
  for (let call = 1; call <= 8; call += 1) {
    codes.push(await model.doGenerate(question).then(() => 'ok', (error: { code: string }) => error.code));
  }
  assert.deepEqual(codes, ['model-overloaded', 'model-overloaded', 'model-server-error', 'ok', 'ok', 'model-server-error', 'model-rate-limited', 'model-rate-limited']);
  assert.deepEqual(reported.map(([, call]) => call), [1, 2, 3, 6, 7, 8]);
});

test('probability: about the declared share of calls, and the flaky profile fails ~20% with retryable codes', async () => {
  const model = new SimulatorModel({ seed: 11, faults: [{ on: { probability: 0.3 }, fault: { type: 'server-error' } }] });
  let failed = 0;
  for (let call = 0; call < 400; call += 1) await model.doGenerate(question).catch(() => (failed += 1));
  assert.ok(failed > 80 && failed < 160, `${failed} of 400`);
  const codes = new Map<string, number>();
  const flaky = new SimulatorModel({ profile: 'flaky', seed: 11 });
  for (let call = 0; call < 300; call += 1) {
    const timeout = AbortSignal.timeout(1);
    const code = await flaky.doGenerate({ ...question, abortSignal: timeout }).then(() => 'ok', (error: { code: string; isRetryable: boolean }) => (assert.ok(error.isRetryable), error.code));
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  const failures = 300 - (codes.get('ok') ?? 0);
  assert.ok(failures > 30 && failures < 90, `${failures} of 300 failed`);
  for (const code of ['model-rate-limited', 'model-server-error']) assert.ok((codes.get(code) ?? 0) > 0, `flaky produces ${code}`);
});

test('a fault plan from JSON is checked: typos and bad values are config-invalid with a path', () => {
  const plan = JSON.parse('[{"on":{"every":2},"fault":{"type":"rate-limit","retryAfterMs":100}}]') as unknown;
  assert.deepEqual(parseFaultPlan(plan), [{ on: { every: 2 }, fault: { type: 'rate-limit', retryAfterMs: 100 } }]);
  assert.throws(() => parseFaultPlan([{ on: { every: 2 }, fault: { type: 'rate-limit', retryAfter: 100 } }]), /faults\[0\]\.fault\.retryAfter: unknown key/);
  assert.throws(() => parseFaultPlan([{ on: { every: 0 }, fault: { type: 'overloaded' } }]), /faults\[0\]\.on\.every/);
  assert.throws(() => parseFaultPlan([{ on: { every: 2, calls: [1] }, fault: { type: 'overloaded' } }]), /exactly one/);
  assert.throws(() => parseFaultPlan([{ on: { probability: 2 }, fault: { type: 'overloaded' } }]), /probability/);
  assert.throws(() => parseFaultPlan([{ on: { calls: [1] }, fault: { type: 'meteor' } }]), /fault\.type: expected one of/);
  assert.throws(() => new SimulatorModel({ faults: [{ on: { calls: [0] }, fault: { type: 'overloaded' } }] }), { code: 'config-invalid' });
});

test('afterCall with probability: a seeded share of the calls after N, none before, and the same calls on every run of the scenario', () => {
  const plan = parseFaultPlan([{ on: { afterCall: 20, probability: 0.5 }, fault: { type: 'overloaded' } }]);
  const fired = (call: number) => faultForCall(plan, call, `scenario:${call}`) !== undefined;
  const calls = Array.from({ length: 220 }, (_, index) => index + 1);
  assert.deepEqual(calls.filter((call) => call <= 20 && fired(call)), []);
  const after = calls.filter((call) => call > 20 && fired(call)).length;
  assert.ok(after > 70 && after < 130, `${after} of 200 calls after call 20 faulted`);
  assert.deepEqual(calls.filter(fired), calls.filter(fired));
  assert.throws(() => parseFaultPlan([{ on: { every: 2, probability: 0.5 }, fault: { type: 'overloaded' } }]), /exactly one/);
  assert.throws(() => parseFaultPlan([{ on: { afterCall: 2, probability: 2 }, fault: { type: 'overloaded' } }]), /probability: expected a number from 0 to 1/);
});
