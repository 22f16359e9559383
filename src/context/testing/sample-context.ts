import type { AssembleContextInput, ContextItem, ContextSection } from '../context-spec.ts';

/**
 * A context that exercises every truncation rule, every role, labels, signals and non-ASCII text
 * (Turkish dotted capitals, emoji, combining marks: where locale-dependent code would diverge),
 * against the real o200k tokenizer.
 */
export function sampleInput(): AssembleContextInput {
  const paragraph = (seed: number) =>
    `Paragraph ${seed}: İstanbul 🚚 parcel ${seed} arrived late; the café's refund policy (ﬁnal) applies. Ünïcödé ñ e\u0301 ${'detail '.repeat(seed % 9)}`.repeat(3);
  const chunks: ContextItem[] = Array.from({ length: 12 }, (_, index) => ({
    source: 'folder:kb',
    id: `policies/refunds.md#${index + 1}`,
    version: 'a1b2c3d4e5f60718',
    text: paragraph(index),
    labels: { tenants: ['acme'], classification: 'internal', origins: ['untrusted'] },
    // Two equal scores: ties must break by identity, not by arrival order.
    meta: { score: index === 3 || index === 4 ? 5 : 12 - index, ageMs: index * 86_400_000 },
  }));
  const history: ContextItem[] = Array.from({ length: 8 }, (_, index) => ({
    source: 'history',
    id: `turn-${index}`,
    version: '1',
    text: `Turn ${index}: ${paragraph(index + 20)}`,
    labels: { tenants: ['acme'], classification: 'personal', origins: ['user'] },
    role: index % 2 === 0 ? 'user' : 'assistant',
    meta: { ageMs: (8 - index) * 60_000 },
  }));
  const sections: ContextSection[] = [
    {
      name: 'instructions',
      kind: 'instructions',
      priority: 100,
      maxTokens: 200,
      truncation: 'never',
      items: [{ source: 'template', id: 'support-agent', version: '3', text: 'You are the support agent for Acme. Cite documents by id.', labels: { tenants: [], origins: ['system'] } }],
    },
    { name: 'knowledge', kind: 'retrieval', priority: 50, maxTokens: 900, truncation: 'drop-lowest-score', items: chunks, position: 1 },
    {
      name: 'history',
      kind: 'history',
      priority: 40,
      maxTokens: 700,
      truncation: 'summarise-then-drop',
      items: history,
      position: 2,
      summary: { source: 'summary', id: 'history-summary', version: '1', text: 'Earlier: the customer asked twice about parcel 7.', labels: { tenants: ['acme'], classification: 'personal', origins: ['system'] }, role: 'assistant' },
    },
    {
      name: 'order',
      kind: 'tool-state',
      priority: 60,
      maxTokens: 120,
      truncation: 'truncate-tail',
      position: 2,
      items: [
        { source: 'tool', id: 'lookup-order', version: '1', text: paragraph(33), labels: { tenants: ['acme'], classification: 'confidential', origins: ['system'] }, role: 'tool', meta: { toolCallId: 'call_1', toolName: 'lookup_order' } },
        { source: 'memory', id: 'preferences', version: '2', text: 'Prefers email. Speaks Turkish.', labels: { tenants: ['acme'], classification: 'personal', origins: ['user'] } },
      ],
    },
    {
      name: 'documents',
      kind: 'documents',
      priority: 30,
      maxTokens: 400,
      truncation: 'truncate-head',
      position: 1,
      items: [{ source: 'upload', id: 'invoice.txt', version: '1', text: paragraph(44).repeat(4), labels: { tenants: ['acme'], classification: 'confidential', origins: ['user'] } }],
    },
    {
      name: 'question',
      kind: 'memory',
      priority: 90,
      maxTokens: 100,
      truncation: 'truncate-tail',
      position: 9,
      items: [{ source: 'request', id: 'question', version: '1', text: 'Where is my refund for parcel 7?', labels: { tenants: ['acme'], origins: ['user'] } }],
    },
  ];
  return {
    sections,
    target: { provider: 'openai', modelId: 'gpt-4o', contextWindow: 2_400 },
    reserveForOutput: 500,
    signals: [
      { kind: 'stale-result', detail: 'policies/refunds.md@a1b2c3d4e5f60718 is old', retriever: 'folder:kb', documentId: 'policies/refunds.md', ageMs: 9 },
      { kind: 'low-coverage', detail: 'results cover 50% of the query', retriever: 'folder:kb', coverage: 0.5 },
    ],
  };
}

/** The same input with every list in a different order (a seeded shuffle, so a failure reproduces). */
export function shuffledInput(input: AssembleContextInput, seed: number): AssembleContextInput {
  let state = seed >>> 0;
  const shuffle = <T>(list: readonly T[]): T[] => {
    const copy = [...list];
    for (let index = copy.length - 1; index > 0; index -= 1) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      const other = state % (index + 1);
      [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
    }
    return copy;
  };
  return {
    ...input,
    sections: shuffle(input.sections).map((section) => ({ ...section, items: shuffle(section.items) })),
    ...(input.signals === undefined ? {} : { signals: shuffle(input.signals) }),
  };
}
