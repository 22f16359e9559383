import { performance } from 'node:perf_hooks';
import { assembleContext } from './assemble-context.ts';
import type { AssembleContextInput, ContextItem, ContextSection } from './context-spec.ts';

export type AssemblyBenchResult = {
  /** Median of the measured runs, in milliseconds: the figure to hold under 5 ms. */
  medianMs: number;
  /** The first assembly of the candidate set, which tokenises every text once. */
  coldMs: number;
  runs: number;
  candidateItems: number;
  candidateTokens: number;
  promptTokens: number;
  keptItems: number;
};

const words = ('refund order parcel invoice customer policy shipping warranty return damaged late account payment card ' +
  'address delivery carrier tracking label exchange store credit receipt manager escalation approval threshold').split(' ');

/** A deterministic word stream (a linear congruential generator), so every run benches the same text. */
function prose(seed: number, wordCount: number): string {
  let state = seed >>> 0;
  const out: string[] = [];
  for (let index = 0; index < wordCount; index += 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out.push(words[state % words.length] ?? 'the');
    if (state % 11 === 0) out.push('.');
  }
  return out.join(' ');
}

/** About 100k tokens of candidates: 400 retrieved chunks, 40 history turns, instructions, a question. */
export function benchInput(): AssembleContextInput {
  const chunks: ContextItem[] = Array.from({ length: 400 }, (_, index) => ({
    source: 'folder:kb',
    id: `kb/doc-${String(Math.floor(index / 4)).padStart(3, '0')}.md#${(index % 4) + 1}`,
    version: `v${index % 7}`,
    text: prose(index + 1, 210),
    labels: { tenants: ['acme'], classification: 'internal', origins: ['untrusted'] },
    meta: { score: Math.round((1000 - index * 2.3) * 1000) / 1000, ageMs: index * 3_600_000 },
  }));
  const history: ContextItem[] = Array.from({ length: 40 }, (_, index) => ({
    source: 'history',
    id: `turn-${String(index).padStart(3, '0')}`,
    version: '1',
    text: prose(10_000 + index, 140),
    labels: { tenants: ['acme'], classification: 'personal', origins: ['user'] },
    role: index % 2 === 0 ? 'user' : 'assistant',
    meta: { ageMs: (40 - index) * 60_000 },
  }));
  const sections: ContextSection[] = [
    {
      name: 'instructions',
      kind: 'instructions',
      priority: 100,
      maxTokens: 1_000,
      truncation: 'never',
      items: [{ source: 'template', id: 'support-agent', version: '3', text: prose(7, 380), labels: { tenants: [], origins: ['system'] } }],
    },
    { name: 'retrieved', kind: 'retrieval', priority: 50, maxTokens: 5_000, truncation: 'drop-lowest-score', items: chunks, position: 1 },
    { name: 'history', kind: 'history', priority: 40, maxTokens: 3_000, truncation: 'truncate-head', items: history, position: 2 },
    {
      name: 'question',
      kind: 'memory',
      priority: 90,
      maxTokens: 400,
      truncation: 'truncate-tail',
      position: 3,
      items: [{ source: 'request', id: 'question', version: '1', text: prose(99, 60), labels: { tenants: ['acme'], origins: ['user'] } }],
    },
  ];
  // 8 192 tokens for the prompt after a 1 024-token output reserve.
  return { sections, target: { provider: 'openai', modelId: 'gpt-4o', contextWindow: 9_216 }, reserveForOutput: 1_024 };
}

/**
 * Median milliseconds to cut a 100k-token candidate set to an 8k window, over `runs` assemblies
 * after `warmUp` (token counts are cached by text, as they are across real runs).
 */
export function benchAssembly(runs = 20, warmUp = 5): AssemblyBenchResult {
  const input = benchInput();
  // Fresh item and section objects every run: only the texts repeat, as in real traffic.
  const fresh = (): AssembleContextInput => ({ ...input, sections: input.sections.map((section) => ({ ...section, items: section.items.map((item) => ({ ...item })) })) });
  const coldStart = performance.now();
  const first = assembleContext(fresh());
  const coldMs = performance.now() - coldStart;
  for (let index = 0; index < warmUp; index += 1) assembleContext(fresh());
  const times: number[] = [];
  for (let index = 0; index < runs; index += 1) {
    const run = fresh();
    const start = performance.now();
    assembleContext(run);
    times.push(performance.now() - start);
  }
  times.sort((left, right) => left - right);
  const middle = Math.floor(times.length / 2);
  const medianMs = times.length % 2 === 1 ? (times[middle] ?? 0) : ((times[middle - 1] ?? 0) + (times[middle] ?? 0)) / 2;
  const { totals } = first.manifest;
  return {
    medianMs: Math.round(medianMs * 1000) / 1000,
    coldMs: Math.round(coldMs * 1000) / 1000,
    runs,
    candidateItems: totals.candidateItems,
    candidateTokens: totals.candidateTokens,
    promptTokens: totals.promptTokens,
    keptItems: totals.keptItems,
  };
}
