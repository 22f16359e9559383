/**
 * What `keel/ai-sdk`'s middleware costs per model call, over the same model unwrapped, measured
 * side by side (rounds interleaved, so drift of the machine hits both alike). All three run the
 * AI SDK's `generateText` on the instant `sim:default` simulator through the Keel provider:
 *   - unwrapped: the AI SDK alone, no run, no journal (the baseline);
 *   - governed: the model wrapped with `keelMiddleware` inside a durable Keel run on SQLite: each
 *     call routed, priced, journaled as a model step (budget rules armed);
 *   - and, for attribution, Keel's own durable governed call (`context.model`) without the AI SDK.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateText, wrapLanguageModel } from 'ai';
import { createKeel } from '../src/agent/index.ts';
import type { Keel } from '../src/agent/index.ts';
import { keelMiddleware, keelModel } from '../src/ai-sdk/index.ts';
import { SqliteStore } from '../src/store/index.ts';
import type { Measure } from './journal-bench.ts';

const system = [
  'You are the customer support agent of Northwind Outfitters, an online shop for outdoor clothing and equipment.',
  'You help customers with orders, deliveries, returns and refunds. Be concise, friendly and precise; never guess.',
  'Issue refunds only with issue_refund, never for more than the order total, and never twice for the same order.',
].join(' ');
const prompt = 'Hi, I ordered a rain jacket (order A-1001) twelve days ago and the zip broke on the first day I wore it. Can I get my money back?';

const median = (values: number[]): number => {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const round1 = (value: number): number => Math.round(value * 10) / 10;

export async function benchAiSdkMiddleware(options: { callsPerRun?: number; rounds?: number } = {}): Promise<Measure[]> {
  const { callsPerRun = 100, rounds = 9 } = options;
  const folder = mkdtempSync(join(tmpdir(), 'keel-bench-ai-sdk-'));
  const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
  const keel: Keel = await createKeel({ store, config: { version: 1, routes: [] } });
  try {
    const unwrapped = keelModel('sim:default');
    keel.engine.tasks.register({
      name: 'bench-ai-sdk-governed',
      version: '1',
      run: async (context) => {
        const model = wrapLanguageModel({ model: keelModel('sim:default'), middleware: keelMiddleware({ run: context, runtime: keel.runtime }) });
        for (let call = 0; call < callsPerRun; call += 1) await generateText({ model, system, prompt: `${prompt} (${call})`, maxRetries: 0, maxOutputTokens: 400 });
        return null;
      },
    });
    keel.engine.tasks.register({
      name: 'bench-ai-sdk-keel-only',
      version: '1',
      run: async (context) => {
        const model = keel.runtime.model('sim:default', { task: context.task });
        for (let call = 0; call < callsPerRun; call += 1) {
          await context.model('answer', model, { messages: [{ role: 'system', content: system }, { role: 'user', content: [{ type: 'text', text: `${prompt} (${call})` }] }], maxOutputTokens: 400 });
        }
        return null;
      },
    });
    const timeUnwrapped = async () => {
      const began = performance.now();
      for (let call = 0; call < callsPerRun; call += 1) await generateText({ model: unwrapped, system, prompt: `${prompt} (${call})`, maxRetries: 0, maxOutputTokens: 400 });
      return ((performance.now() - began) * 1000) / callsPerRun;
    };
    const timeRun = (task: string) => async () => {
      const began = performance.now();
      const outcome = await keel.run(task, null);
      if (outcome.status !== 'ok') throw new Error(`bench run ${task} ended ${outcome.status}: ${outcome.reason ?? ''}`);
      return ((performance.now() - began) * 1000) / callsPerRun;
    };
    const contenders = { unwrapped: timeUnwrapped, governed: timeRun('bench-ai-sdk-governed'), keelOnly: timeRun('bench-ai-sdk-keel-only') };
    for (const measure of Object.values(contenders)) await measure(); // warm-up
    const samples: Record<keyof typeof contenders, number[]> = { unwrapped: [], governed: [], keelOnly: [] };
    for (let round = 0; round < rounds; round += 1) for (const [name, measure] of Object.entries(contenders)) samples[name as keyof typeof contenders].push(await measure());
    const unwrappedMicros = median(samples.unwrapped);
    const governedMicros = median(samples.governed);
    const keelOnlyMicros = median(samples.keelOnly);
    const detail = `generateText on sim:default, ${callsPerRun} calls a run, median of ${rounds} interleaved rounds`;
    const measures: Measure[] = [
      { name: 'ai-sdk: generateText, model unwrapped (baseline)', value: round1(unwrappedMicros), unit: 'µs/call', detail },
      { name: 'ai-sdk: generateText through keelMiddleware in a durable run', value: round1(governedMicros), unit: 'µs/call', detail: `${detail}; governed, priced, journaled (SQLite, durability normal; no budget, whose book the model-call bench measures)` },
      { name: 'ai-sdk: middleware overhead over the unwrapped model', value: round1(governedMicros - unwrappedMicros), unit: 'µs/call', detail: `${round1(governedMicros / unwrappedMicros)}× the unwrapped call; Keel's own durable governed call alone: ${round1(keelOnlyMicros)} µs` },
    ];
    for (const measure of measures) process.stdout.write(`  ${measure.name}: ${measure.value} ${measure.unit}  (${measure.detail})\n`);
    return measures;
  } finally {
    await keel.close();
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

if (import.meta.main) await benchAiSdkMiddleware();
