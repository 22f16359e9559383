import type { ContextItem, ContextSection } from '../context/index.ts';
import { assembleContext, renderTemplate, retrieveForContext } from '../context/index.ts';
import type { RunContext } from '../engine/index.ts';
import { KeelError } from '../errors/index.ts';
import { sha256 } from '../journal/index.ts';
import { Handoff, LongTermMemory, SessionMemory, toContextItem } from '../memory/index.ts';
import { canSeal, subjectsToSeal } from '../redaction/index.ts';
import type { MessageV1 } from '../spec/index.ts';
import type { AgentDeclaration, AgentInput } from './agent-declaration.ts';
import type { AgentRuntime } from './agent-runtime.ts';

export interface AgentContext {
  messages: MessageV1[];
  /** Every item sent, with its labels: what tool-argument provenance is traced against. */
  items: ContextItem[];
}

const defaultContextWindow = 128_000;

/**
 * The run's first prompt: instructions, memory, declared sources and the user's message, assembled
 * deterministically within the window, its manifest journaled. Everything read from outside the
 * code (memory, loaded items, retrieval) is read in a journaled step, so a resumed or replayed run
 * assembles the same bytes from the journal.
 */
export async function buildAgentContext(context: RunContext, input: AgentInput, declaration: AgentDeclaration, runtime: AgentRuntime, reserveForOutput: number): Promise<AgentContext> {
  const run = { runId: context.runId, task: context.task, tenant: context.tenant, principal: context.principal };
  const variables: Record<string, string | number | boolean> = { tenant: context.tenant, principal: context.principal };
  for (const [name, value] of Object.entries(input.variables ?? {})) variables[name] = typeof value === 'object' || value === null ? JSON.stringify(value) : value;
  const instructions = renderTemplate({ id: declaration.name, version: sha256(declaration.instructions).slice(0, 12), text: declaration.instructions }, variables);
  const sections: ContextSection[] = [
    {
      name: 'instructions',
      kind: 'instructions',
      priority: 100,
      position: 0,
      maxTokens: 1_000_000,
      truncation: 'never',
      items: [{ source: 'instructions', id: declaration.name, version: sha256(instructions).slice(0, 12), text: instructions, labels: { tenants: [context.tenant], classification: 'internal', origins: ['system'] }, role: 'system' }],
    },
  ];

  const memoryItems = await context.step(
    'memory-read',
    async () => {
      const items: ContextItem[] = [];
      if (declaration.memory?.longTerm === true) items.push(...(await new LongTermMemory({ store: runtime.store, tenant: context.tenant, principal: context.principal }).items()));
      if (declaration.memory?.session === true && input.session !== undefined) items.push(...(await new SessionMemory({ store: runtime.store, tenant: context.tenant, sessionId: input.session }).items()));
      if (declaration.memory?.handoff === true && input.handoff !== undefined) {
        const handed = await new Handoff({ store: runtime.store, tenant: context.tenant, handoffId: input.handoff }).read();
        if (handed !== undefined) items.push(toContextItem(handed.entry));
      }
      // Memory about subjects, opened here, is journaled sealed like a labelled tool result.
      const subjects = subjectsToSeal(items.map((item) => item.labels));
      if (subjects.length > 0 && canSeal(context) && !(await context.sealSubjects(subjects))) throw new KeelError('redaction-unavailable', `memory about ${subjects.join(', ')} was read, but the store keeps no subject keys to seal it with`);
      return items;
    },
    { idempotent: true, input: { session: input.session ?? null, longTerm: declaration.memory?.longTerm === true, ...(input.handoff === undefined ? {} : { handoff: input.handoff }) } },
  );
  if ((memoryItems).length > 0) {
    sections.push({ name: 'memory', kind: 'memory', priority: 40, position: 1, maxTokens: 4_000, truncation: 'drop-oldest', items: memoryItems });
  }

  const signals = [];
  for (const source of declaration.context ?? []) {
    const loaded = await context.step(
      `context:${source.name}`,
      async () => {
        if (source.load !== undefined) return { items: await source.load(input, run), signals: [] };
        const retriever = source.retriever;
        if (retriever === undefined) throw new KeelError('config-invalid', `context source ${source.name} has neither load nor retriever`);
        const retrieval = await retrieveForContext(retriever, source.query?.(input) ?? input.message, { limit: source.limit ?? 4, staleAfterMs: Number.MAX_SAFE_INTEGER, minCoverage: 0 });
        if (!retrieval.ok) throw retrieval.error;
        return { items: retrieval.items, signals: retrieval.signals };
      },
      { idempotent: true },
    );
    const { items, signals: found } = loaded;
    for (const signal of found) context.record('retrieval-signal', { kind: signal.kind, detail: signal.detail });
    signals.push(...found);
    sections.push({
      name: source.name,
      kind: source.kind ?? (source.retriever === undefined ? 'documents' : 'retrieval'),
      priority: source.priority ?? 50,
      position: 2,
      maxTokens: source.maxTokens ?? 2_000,
      truncation: source.truncation ?? 'drop-lowest-score',
      items,
    });
  }

  sections.push({
    name: 'message',
    kind: 'history',
    priority: 90,
    position: 9,
    maxTokens: 1_000_000,
    truncation: 'never',
    items: [{ source: 'user', id: 'message', version: sha256(input.message).slice(0, 12), text: input.message, labels: { tenants: [context.tenant], classification: 'internal', origins: ['user'] }, role: 'user' }],
  });

  const separator = declaration.model.indexOf(':');
  const target = {
    provider: separator === -1 ? 'keel' : declaration.model.slice(0, separator),
    modelId: separator === -1 ? declaration.model : declaration.model.slice(separator + 1),
    contextWindow: declaration.limits?.contextWindow ?? defaultContextWindow,
  };
  const assembled = assembleContext({ sections, target, reserveForOutput, signals });
  context.record('context-assembly', { manifestHash: assembled.manifest.manifestHash, manifest: assembled.manifest });
  const kept = new Set(assembled.manifest.items.map((item) => `${item.source}\u0000${item.id}`));
  return { messages: assembled.messages, items: sections.flatMap((section) => section.items).filter((item) => kept.has(`${item.source}\u0000${item.id}`)) };
}
