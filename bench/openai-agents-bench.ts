/**
 * What `keel/openai-agents`' model provider costs per model call, over the same model unwrapped,
 * measured side by side (rounds interleaved, so drift of the machine hits both alike). Both run
 * the Agents SDK's own `Runner.run` (one turn, a text answer) on the instant `sim:default`
 * simulator, with the SDK's tracing off in both:
 *   - unwrapped: the simulator behind a minimal Agents SDK model of its own, no run, no journal;
 *   - governed: `keelModelProvider` inside a durable Keel run on SQLite: each call routed, priced
 *     and journaled as a model step.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Model, ModelRequest, ModelResponse, StreamEvent } from '@openai/agents';
import { Agent, Runner, setTracingDisabled, Usage } from '@openai/agents';
import { createKeel } from '../src/agent/index.ts';
import type { Keel } from '../src/agent/index.ts';
import { resolveModel } from '../src/models/index.ts';
import { keelModelProvider } from '../src/openai-agents/index.ts';
import { SqliteStore } from '../src/store/index.ts';
import type { Measure } from './journal-bench.ts';

const instructions = [
  'You are the customer support agent of Northwind Outfitters, an online shop for outdoor clothing and equipment.',
  'You help customers with orders, deliveries, returns and refunds. Be concise, friendly and precise; never guess.',
].join(' ');
const prompt = 'Hi, I ordered a rain jacket (order A-1001) twelve days ago and the zip broke on the first day I wore it. Can I get my money back?';

const median = (values: number[]): number => {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const round1 = (value: number): number => Math.round(value * 10) / 10;

/** The same simulator as an Agents SDK model with nothing of Keel's around it: the least translation a one-turn text call needs. */
class UnwrappedSimulator implements Model {
  readonly #model = resolveModel('sim:default');

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const text = typeof request.input === 'string' ? request.input : JSON.stringify(request.input);
    const result = await this.#model.doGenerate({
      messages: [
        { role: 'system', content: request.systemInstructions ?? '' },
        { role: 'user', content: [{ type: 'text', text }] },
      ],
      ...(request.modelSettings.maxTokens === undefined ? {} : { maxOutputTokens: request.modelSettings.maxTokens }),
    });
    const answer = result.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('');
    const { inputTokens, outputTokens } = result.usage;
    return {
      usage: new Usage({ requests: 1, inputTokens, outputTokens, totalTokens: inputTokens + outputTokens }),
      output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: answer }] }],
      responseId: result.response.id,
    };
  }

  // eslint-disable-next-line require-yield -- the bench only generates
  async *getStreamedResponse(): AsyncIterable<StreamEvent> {
    throw new Error('the bench does not stream');
  }
}

export async function benchOpenAiAgentsProvider(options: { callsPerRun?: number; rounds?: number } = {}): Promise<Measure[]> {
  const { callsPerRun = 100, rounds = 9 } = options;
  const folder = mkdtempSync(join(tmpdir(), 'keel-bench-openai-agents-'));
  const store = SqliteStore.open({ path: join(folder, 'keel.db'), durability: 'normal' });
  const keel: Keel = await createKeel({ store, config: { version: 1, routes: [] } });
  setTracingDisabled(true);
  try {
    const agent = new Agent({ name: 'Support', instructions, model: 'sim:default', modelSettings: { maxTokens: 400 } });
    const unwrapped = new Runner({ modelProvider: { getModel: () => new UnwrappedSimulator() }, tracingDisabled: true });
    keel.engine.tasks.register({
      name: 'bench-openai-agents-governed',
      version: '1',
      run: async (context) => {
        const runner = new Runner({ modelProvider: keelModelProvider({ run: context, runtime: keel.runtime }), tracingDisabled: true });
        for (let call = 0; call < callsPerRun; call += 1) await runner.run(agent, `${prompt} (${call})`);
        return null;
      },
    });
    const timeUnwrapped = async () => {
      const began = performance.now();
      for (let call = 0; call < callsPerRun; call += 1) await unwrapped.run(agent, `${prompt} (${call})`);
      return ((performance.now() - began) * 1000) / callsPerRun;
    };
    const timeGoverned = async () => {
      const began = performance.now();
      const outcome = await keel.run('bench-openai-agents-governed', null);
      if (outcome.status !== 'ok') throw new Error(`bench run ended ${outcome.status}: ${outcome.reason ?? ''}`);
      return ((performance.now() - began) * 1000) / callsPerRun;
    };
    const contenders = { unwrapped: timeUnwrapped, governed: timeGoverned };
    for (const measure of Object.values(contenders)) await measure(); // warm-up
    const samples: Record<keyof typeof contenders, number[]> = { unwrapped: [], governed: [] };
    for (let round = 0; round < rounds; round += 1) for (const [name, measure] of Object.entries(contenders)) samples[name as keyof typeof contenders].push(await measure());
    const unwrappedMicros = median(samples.unwrapped);
    const governedMicros = median(samples.governed);
    const detail = `Runner.run (one turn) on sim:default, ${callsPerRun} calls a run, median of ${rounds} interleaved rounds, SDK tracing off`;
    const measures: Measure[] = [
      { name: 'openai-agents: Runner.run, simulator unwrapped (baseline)', value: round1(unwrappedMicros), unit: 'µs/call', detail },
      { name: 'openai-agents: Runner.run through keelModelProvider in a durable run', value: round1(governedMicros), unit: 'µs/call', detail: `${detail}; governed, priced, journaled (SQLite, durability normal; no budget rules)` },
      { name: 'openai-agents: provider overhead over the unwrapped model', value: round1(governedMicros - unwrappedMicros), unit: 'µs/call', detail: `${round1(governedMicros / unwrappedMicros)}× the unwrapped call` },
    ];
    for (const measure of measures) process.stdout.write(`  ${measure.name}: ${measure.value} ${measure.unit}  (${measure.detail})\n`);
    return measures;
  } finally {
    setTracingDisabled(false);
    await keel.close();
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

if (import.meta.main) await benchOpenAiAgentsProvider();
