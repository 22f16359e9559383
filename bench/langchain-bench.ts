/**
 * What `keel/langchain`'s middleware costs per model call, over the same agent without it,
 * measured side by side (rounds interleaved, so drift of the machine hits both alike). Both run
 * LangChain's `createAgent` (no tools: one model call an invoke) on the instant `sim:default`
 * simulator as a Keel chat model:
 *   - unwrapped: the agent alone, no run, no journal (the baseline);
 *   - governed: the agent with `keelMiddleware` inside a durable Keel run on SQLite: each call
 *     routed, priced and journaled as a model step.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HumanMessage } from '@langchain/core/messages';
import { createAgent } from 'langchain';
import { createKeel } from '../src/agent/index.ts';
import type { Keel } from '../src/agent/index.ts';
import { keelChatModel, keelMiddleware, runAgentLoop } from '../src/langchain/index.ts';
import { SqliteStore } from '../src/store/index.ts';
import type { Measure } from './journal-bench.ts';

const system = 'You are the customer support agent of Northwind Outfitters. Be concise, friendly and precise; never guess.';
const prompt = 'Hi, I ordered a rain jacket (order A-1001) twelve days ago and the zip broke on the first day I wore it. Can I get my money back?';

const median = (values: number[]): number => {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const round1 = (value: number): number => Math.round(value * 10) / 10;

export async function benchLangChainMiddleware(options: { callsPerRun?: number; rounds?: number } = {}): Promise<Measure[]> {
  const { callsPerRun = 50, rounds = 7 } = options;
  const folder = mkdtempSync(join(tmpdir(), 'keel-bench-langchain-'));
  const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
  const keel: Keel = await createKeel({ store, config: { version: 1, routes: [] } });
  try {
    const unwrapped = createAgent({ model: keelChatModel('sim:default'), tools: [], systemPrompt: system });
    keel.engine.tasks.register({
      name: 'bench-langchain-governed',
      version: '1',
      run: async (context) => {
        const agent = createAgent({ model: keelChatModel('sim:default'), tools: [], systemPrompt: system, middleware: [keelMiddleware({ run: context, runtime: keel.runtime })] });
        for (let call = 0; call < callsPerRun; call += 1) await runAgentLoop(context, () => agent.invoke({ messages: [new HumanMessage(`${prompt} (${call})`)] }));
        return null;
      },
    });
    const timeUnwrapped = async () => {
      const began = performance.now();
      for (let call = 0; call < callsPerRun; call += 1) await unwrapped.invoke({ messages: [new HumanMessage(`${prompt} (${call})`)] });
      return ((performance.now() - began) * 1000) / callsPerRun;
    };
    const timeGoverned = async () => {
      const began = performance.now();
      const outcome = await keel.run('bench-langchain-governed', null);
      if (outcome.status !== 'ok') throw new Error(`bench run ended ${outcome.status}: ${outcome.reason ?? ''}`);
      return ((performance.now() - began) * 1000) / callsPerRun;
    };
    const contenders = { unwrapped: timeUnwrapped, governed: timeGoverned };
    for (const measure of Object.values(contenders)) await measure(); // warm-up
    const samples: Record<keyof typeof contenders, number[]> = { unwrapped: [], governed: [] };
    for (let round = 0; round < rounds; round += 1) for (const [name, measure] of Object.entries(contenders)) samples[name as keyof typeof contenders].push(await measure());
    const unwrappedMicros = median(samples.unwrapped);
    const governedMicros = median(samples.governed);
    const detail = `createAgent invoke (one model call, no tools) on sim:default, ${callsPerRun} calls a run, median of ${rounds} interleaved rounds`;
    const measures: Measure[] = [
      { name: 'langchain: agent.invoke, no middleware (baseline)', value: round1(unwrappedMicros), unit: 'µs/call', detail },
      { name: 'langchain: agent.invoke through keelMiddleware in a durable run', value: round1(governedMicros), unit: 'µs/call', detail: `${detail}; governed, priced, journaled (SQLite, durability normal)` },
      { name: 'langchain: middleware overhead over the agent alone', value: round1(governedMicros - unwrappedMicros), unit: 'µs/call', detail: `${round1(governedMicros / unwrappedMicros)}× the agent alone` },
    ];
    for (const measure of measures) process.stdout.write(`  ${measure.name}: ${measure.value} ${measure.unit}  (${measure.detail})\n`);
    return measures;
  } finally {
    await keel.close();
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

if (import.meta.main) await benchLangChainMiddleware();
