import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GenerateOptionsV1 } from '../../spec/index.ts';
import { SimulatorModel, simulatorProfiles } from './index.ts';

const question: GenerateOptionsV1 = { messages: [{ role: 'user', content: [{ type: 'text', text: 'Tell me about the refund policy for furniture, please.' }] }] };
const latency = { firstTokenMs: 40, perOutputTokenMs: 2, jitter: 0 };

test('generate waits the time to first token plus the per-token time of its output', async () => {
  const model = new SimulatorModel({ latency });
  const began = performance.now();
  const answer = await model.doGenerate(question);
  const elapsed = performance.now() - began;
  assert.ok(elapsed >= latency.firstTokenMs + latency.perOutputTokenMs * answer.usage.outputTokens - 5, `${elapsed} ms`);
});

test('a stream starts at once, waits the first-token time before its first delta, then spaces the rest', async () => {
  const model = new SimulatorModel({ latency: { firstTokenMs: 40, perOutputTokenMs: 8, jitter: 0 } });
  const began = performance.now();
  const arrivals: number[] = [];
  for await (const _part of (await model.doStream(question)).stream) arrivals.push(performance.now() - began);
  assert.ok((arrivals[0] ?? Infinity) < 30, 'response-start');
  assert.ok((arrivals[1] ?? 0) >= 35, 'first delta after the first-token time');
  assert.ok((arrivals.at(-1) ?? 0) - (arrivals[1] ?? 0) >= 20, 'later deltas take per-token time');
});

test('jitter is seeded: the same call takes the same simulated time, other seeds another', async () => {
  const timed = async (seed: number) => {
    const model = new SimulatorModel({ seed, latency: { firstTokenMs: 30, perOutputTokenMs: 0, jitter: 0.9 } });
    const began = performance.now();
    await model.doGenerate(question);
    return performance.now() - began;
  };
  const durations = [await timed(1), await timed(2), await timed(3), await timed(4)];
  assert.ok(durations.every((duration) => duration >= 2), 'never below the jittered floor');
  assert.ok(Math.max(...durations) - Math.min(...durations) > 5, `spread ${durations.map(Math.round).join(', ')}`);
});

test('an abort during the wait ends the call with model-timeout', async () => {
  const model = new SimulatorModel({ latency: { firstTokenMs: 5_000, perOutputTokenMs: 0, jitter: 0 } });
  await assert.rejects(model.doGenerate({ ...question, abortSignal: AbortSignal.timeout(20) }), { name: 'ModelCallError', code: 'model-timeout' });
});

test('a plain abort during the wait is model-aborted, not retryable', async () => {
  const model = new SimulatorModel({ latency: { firstTokenMs: 5_000, perOutputTokenMs: 0, jitter: 0 } });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(model.doGenerate({ ...question, abortSignal: controller.signal }), { name: 'ModelCallError', code: 'model-aborted', isRetryable: false });
});

test('profiles: default is instant, fast is quicker than realistic, smart slowest with the largest window', () => {
  const { default: instant, fast, realistic, smart } = simulatorProfiles;
  assert.ok(instant && fast && realistic && smart);
  assert.deepEqual([instant.latency.firstTokenMs, instant.latency.perOutputTokenMs], [0, 0]);
  assert.ok(fast.latency.firstTokenMs < realistic.latency.firstTokenMs && realistic.latency.firstTokenMs < smart.latency.firstTokenMs);
  assert.ok(fast.latency.perOutputTokenMs < smart.latency.perOutputTokenMs);
  assert.ok(smart.contextWindow > fast.contextWindow);
  for (const [name, profile] of Object.entries(simulatorProfiles)) {
    assert.equal(profile.name, name);
    assert.ok(profile.description.length > 20, `${name} says what it is for`);
    assert.doesNotThrow(() => new SimulatorModel({ profile: name }));
  }
});

test('the fast profile really answers sooner than the realistic one', async () => {
  const timed = async (profile: string) => {
    const began = performance.now();
    await new SimulatorModel({ profile }).doGenerate(question);
    return performance.now() - began;
  };
  const fast = await timed('fast');
  const realistic = await timed('realistic');
  assert.ok(fast < realistic, `fast ${Math.round(fast)} ms, realistic ${Math.round(realistic)} ms`);
  assert.ok(realistic >= simulatorProfiles.realistic!.latency.firstTokenMs * 0.5);
});
