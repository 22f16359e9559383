/**
 * The caches on the per-call path count what they counted before: the p95 of the latency tracker
 * against a plain sort of the window, and a request's tools against a fresh count when the same
 * array is reused, grown or given other tools; the text-count cache stays within its bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GenerateOptionsV1, ToolDefinitionV1 } from '../spec/index.ts';
import { cachedCounter, countPromptTokens } from './token-count.ts';
import { LatencyTracker } from './latency-sla.ts';

test('the latency tracker alerts exactly when the p95 of the last window calls passes the target', () => {
  const window = 20;
  const tracker = new LatencyTracker([{ task: 't', p95Ms: 100, window }]);
  let seed = 7;
  const random = () => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return seed / 2 ** 32;
  };
  const recent: number[] = [];
  let breached = false;
  let alerts = 0;
  for (let call = 0; call < 2_000; call += 1) {
    // Slow and fast phases, with repeated values, so the p95 crosses the target both ways.
    const latency = Math.round(random() * (Math.floor(call / 150) % 2 === 0 ? 90 : 160));
    recent.push(latency);
    if (recent.length > window) recent.shift();
    const sorted = [...recent].sort((left, right) => left - right);
    const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)] as number;
    let expected: number | undefined;
    if (recent.length >= Math.max(5, Math.ceil(window / 5))) {
      if (p95 <= 100) breached = false;
      else if (!breached) {
        breached = true;
        expected = p95;
        alerts += 1;
      }
    }
    assert.equal(tracker.record('t', latency)?.value, expected, `call ${call}`);
  }
  assert.ok(alerts > 3, `the phases crossed the target ${alerts} times`);
});

test('a reused tools array is counted once; grown or changed, it is counted again', () => {
  const tool = (name: string): ToolDefinitionV1 => ({ name, description: `Looks ${name} up in the order system.`, inputSchema: { type: 'object', properties: { id: { type: 'string' } } } });
  const tools = [tool('lookup_order')];
  const request: GenerateOptionsV1 & { tools: ToolDefinitionV1[] } = { messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }], tools };
  const fresh = (list: ToolDefinitionV1[]) => countPromptTokens('openai', 'gpt-4o', { ...request, tools: list.map((item) => ({ ...item })) }).tokens;
  const once = countPromptTokens('openai', 'gpt-4o', request).tokens;
  assert.equal(countPromptTokens('openai', 'gpt-4o', request).tokens, once);
  assert.equal(once, fresh(tools));
  tools.push(tool('read_policy'));
  assert.equal(countPromptTokens('openai', 'gpt-4o', request).tokens, fresh(tools));
  assert.ok(countPromptTokens('openai', 'gpt-4o', request).tokens > once);
  tools[0] = tool('issue_refund_for_a_damaged_item');
  assert.equal(countPromptTokens('openai', 'gpt-4o', request).tokens, fresh(tools));
});

test('the text-count cache holds at most its bytes and entries, dropping the oldest texts first, and never a text over a quarter of its bytes', () => {
  const counted: string[] = [];
  const raw = (text: string) => {
    counted.push(text);
    return text.length;
  };
  const limits = { bytes: 64 * 1024, entries: 1_000 };
  const counter = cachedCounter('test', false, 'o200k_base', raw, limits);
  const text = (index: number, length = 1_000) => `${index}:`.padEnd(length, 'x');
  assert.equal(counter.count(text(0)), 1_000);
  assert.equal(counter.count(text(0)), 1_000);
  assert.deepEqual(counted, [text(0)], 'a repeat is a lookup');
  // ~2 KB a text: 100 of them are three times the bytes.
  for (let index = 1; index <= 100; index += 1) counter.count(text(index));
  counted.length = 0;
  counter.count(text(100));
  counter.count(text(90));
  assert.deepEqual(counted, [], 'the newest texts are still cached');
  counter.count(text(0));
  counter.count(text(1));
  assert.deepEqual(counted, [text(0), text(1)], 'the oldest were dropped to stay within the bytes');
  // Larger than a quarter of the bytes: counted every time, and pushes nothing out.
  counted.length = 0;
  const long = text(-1, 20_000);
  assert.equal(counter.count(long), 20_000);
  assert.equal(counter.count(long), 20_000);
  counter.count(text(100));
  assert.deepEqual(counted, [long, long]);

  const few = cachedCounter('test', false, 'o200k_base', raw, { bytes: 1024 * 1024, entries: 3 });
  counted.length = 0;
  for (const index of [1, 2, 3, 4, 4, 2, 1]) few.count(text(index, 10));
  assert.deepEqual(counted, [1, 2, 3, 4, 1].map((index) => text(index, 10)), 'three entries: the fourth text pushes out the first');
});
