import { KeelError } from '../errors/index.ts';
import { buildManifest } from './build-manifest.ts';
import { toMessage } from './build-messages.ts';
import type { Candidate } from './candidate.ts';
import { framing, measureItem, totalCost } from './candidate.ts';
import type { AssembleContextInput, AssembledContext, ContextSection, ManifestSection } from './context-spec.ts';
import type { Cut, Drop } from './fit-section.ts';
import { fitSection } from './fit-section.ts';
import { byBudgetPrecedence, byPromptPosition, orderItems } from './order-items.ts';
import { tokenizerForModel } from './text-tokenizer.ts';
import { validateContextInput } from './validate-context-input.ts';

/**
 * Builds a prompt from declared sections within the model's window, and the manifest that says
 * exactly what went in and what did not. Deterministic: the output depends only on the input's
 * content (not on array order, the clock, randomness or the locale), so the same input gives
 * byte-identical messages and the same manifest hash in any process on any machine.
 *
 * Two passes: each section is cut to its own maxTokens by its truncation rule; then, while the
 * prompt is over `contextWindow − reserveForOutput`, sections give tokens back lowest priority first,
 * again by their own rule. A `never` section that would have to give anything back fails assembly.
 */
export function assembleContext(given: AssembleContextInput): AssembledContext {
  const input = validateContextInput(given);
  const { target, reserveForOutput } = input;
  const tokenizer = input.tokenizer ?? tokenizerForModel(target.provider, target.modelId);
  const available = target.contextWindow - reserveForOutput;
  if (available < framing.perPrompt) {
    throw new KeelError('model-context-exceeded', `reserveForOutput ${reserveForOutput} leaves no room for a prompt in a ${target.contextWindow}-token window`, {
      details: { contextWindow: target.contextWindow, reserveForOutput },
    });
  }

  const byPrecedence = [...input.sections].sort(byBudgetPrecedence);
  const candidates = new Map<ContextSection, Candidate[]>();
  const kept = new Map<ContextSection, Candidate[]>();
  const dropped: Drop[] = [];
  const cuts: Cut[] = [];
  for (const section of byPrecedence) {
    const measured = orderItems(section.kind, section.items.map((item) => measureItem(tokenizer, section, item)));
    candidates.set(section, measured);
    const fitted = fitSection(tokenizer, section, measured, section.maxTokens, 'section');
    kept.set(section, fitted.kept);
    dropped.push(...fitted.dropped);
    cuts.push(...fitted.cuts);
  }

  let total = framing.perPrompt;
  for (const section of byPrecedence) total += totalCost(kept.get(section) ?? []);
  for (const section of [...byPrecedence].reverse()) {
    if (total <= available) break;
    const current = kept.get(section) ?? [];
    const currentCost = totalCost(current);
    const fitted = fitSection(tokenizer, section, current, Math.max(0, currentCost - (total - available)), 'window');
    kept.set(section, fitted.kept);
    dropped.push(...fitted.dropped);
    cuts.push(...fitted.cuts);
    total += totalCost(fitted.kept) - currentCost;
  }

  const inPromptOrder = [...input.sections].sort(byPromptPosition);
  const keptInOrder = inPromptOrder.flatMap((section) => kept.get(section) ?? []);
  const manifest = buildManifest({
    target,
    tokenizer,
    reserveForOutput,
    sections: inPromptOrder.map((section) => manifestSection(section, candidates.get(section) ?? [], kept.get(section) ?? [])),
    kept: keptInOrder,
    dropped,
    cuts,
    candidateTokens: [...candidates.values()].reduce((sum, list) => sum + totalCost(list), 0),
    candidateItems: [...candidates.values()].reduce((sum, list) => sum + list.length, 0),
    signals: input.signals ?? [],
  });
  return { messages: keptInOrder.map(toMessage), manifest };
}

// Keys in code-unit order: the manifest is hashed as plain JSON (see build-manifest.ts).
function manifestSection(section: ContextSection, candidates: Candidate[], kept: Candidate[]): ManifestSection {
  return {
    candidateItems: candidates.length,
    candidateTokens: totalCost(candidates),
    keptItems: kept.length,
    keptTokens: totalCost(kept),
    kind: section.kind,
    maxTokens: section.maxTokens,
    name: section.name,
    position: section.position ?? 0,
    priority: section.priority,
    truncation: section.truncation,
  };
}
