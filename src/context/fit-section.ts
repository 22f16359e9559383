import { KeelError } from '../errors/index.ts';
import type { Candidate } from './candidate.ts';
import { contentTokens, framing, measureItem, totalCost } from './candidate.ts';
import type { BudgetPhase, ContextSection, DropReason, TextTokenizer } from './context-spec.ts';
import { compareNumbers } from './compare.ts';
import { contentHash } from './measure-text.ts';
import { ageOf, scoreOf } from './order-items.ts';
import type { TextEnd } from './truncate-text.ts';
import { truncateText } from './truncate-text.ts';

/** A cut shorter than this is noise, not context: the item is dropped instead. */
export const minimumCutTokens = 8;

export type Drop = { candidate: Candidate; reason: DropReason };
export type Cut = { before: Candidate; after: Candidate; phase: BudgetPhase };

export type FittedSection = { kept: Candidate[]; dropped: Drop[]; cuts: Cut[] };

/**
 * Cuts one section's candidates (in prompt order) to `budget` tokens by the section's truncation
 * rule. Used twice: against the section's own budget, then against what the window leaves it.
 */
export function fitSection(tokenizer: TextTokenizer, section: ContextSection, candidates: Candidate[], budget: number, phase: BudgetPhase): FittedSection {
  if (totalCost(candidates) <= budget) return { kept: candidates, dropped: [], cuts: [] };
  const reason: DropReason = phase === 'section' ? 'over-section-budget' : 'over-window';
  switch (section.truncation) {
    case 'never':
      throw new KeelError(
        'context-over-budget',
        phase === 'section'
          ? `context section "${section.name}" needs ${totalCost(candidates)} tokens but its budget is ${budget}, and its truncation rule is "never"`
          : `context section "${section.name}" needs ${totalCost(candidates)} tokens but the window leaves it ${budget} (after output reserve and higher-priority sections), and its truncation rule is "never"`,
        { details: { section: section.name, needed: totalCost(candidates), budget, phase } },
      );
    case 'drop-lowest-score':
      return dropUntilFits(candidates, budget, reason, (left, right) => compareNumbers(scoreOf(left), scoreOf(right)));
    case 'drop-oldest':
      return dropUntilFits(candidates, budget, reason, (left, right) => compareNumbers(ageOf(right), ageOf(left)));
    case 'truncate-tail':
      return truncateSection(tokenizer, candidates, budget, reason, phase, 'tail');
    case 'truncate-head':
      return truncateSection(tokenizer, candidates, budget, reason, phase, 'head');
    case 'summarise-then-drop':
      return summariseThenDrop(tokenizer, section, candidates, budget, reason);
  }
}

/**
 * Drops victims one at a time, first by `firstVictim`, ties from the end of the prompt order, until
 * the rest fits. The survivors keep their prompt order.
 */
function dropUntilFits(candidates: Candidate[], budget: number, reason: DropReason, firstVictim: (left: Candidate, right: Candidate) => number): FittedSection {
  const positions = new Map(candidates.map((candidate, index) => [candidate, index]));
  const victims = [...candidates].sort((left, right) => firstVictim(left, right) || compareNumbers(positions.get(right) ?? 0, positions.get(left) ?? 0));
  const gone = new Set<Candidate>();
  const dropped: Drop[] = [];
  let total = totalCost(candidates);
  for (const victim of victims) {
    if (total <= budget) break;
    gone.add(victim);
    dropped.push({ candidate: victim, reason });
    total -= victim.tokens + framing.perItem;
  }
  return { kept: candidates.filter((candidate) => !gone.has(candidate)), dropped, cuts: [] };
}

/**
 * Keeps whole items from the start (`tail`: the end is cut) or from the end (`head`), cuts the
 * first item that does not fit to what is left, and drops everything beyond it.
 */
function truncateSection(tokenizer: TextTokenizer, candidates: Candidate[], budget: number, reason: DropReason, phase: BudgetPhase, cut: TextEnd): FittedSection {
  const ordered = cut === 'tail' ? candidates : [...candidates].reverse();
  const kept: Candidate[] = [];
  const dropped: Drop[] = [];
  const cuts: Cut[] = [];
  let remaining = budget;
  for (const candidate of ordered) {
    const cost = candidate.tokens + framing.perItem;
    if (dropped.length === 0 && cost <= remaining) {
      kept.push(candidate);
      remaining -= cost;
      continue;
    }
    const after = dropped.length === 0 ? cutCandidate(tokenizer, candidate, remaining - framing.perItem, cut) : undefined;
    if (after === undefined) {
      dropped.push({ candidate, reason });
      continue;
    }
    kept.push(after);
    cuts.push({ before: candidate, after, phase });
    // Whatever follows the cut is dropped: the section stays one contiguous run of its text.
    dropped.push(...ordered.slice(ordered.indexOf(candidate) + 1).map((rest) => ({ candidate: rest, reason })));
    break;
  }
  return { kept: cut === 'tail' ? kept : kept.reverse(), dropped, cuts };
}

/** The candidate cut to `maxTokens` of content, or undefined when too little would be left. */
function cutCandidate(tokenizer: TextTokenizer, candidate: Candidate, maxTokens: number, cut: TextEnd): Candidate | undefined {
  if (maxTokens < minimumCutTokens) return undefined;
  const { item, role } = candidate;
  // A tool result's count includes its JSON wrapping, so the text gets what the wrapping leaves,
  // shrunk again if escaping costs more than the empty wrapping suggested.
  let textBudget = maxTokens - (role === 'tool' ? contentTokens(tokenizer, role, item, '') : 0);
  while (textBudget >= minimumCutTokens) {
    const text = truncateText(tokenizer, candidate.text, textBudget, cut).text;
    const tokens = contentTokens(tokenizer, role, item, text);
    if (tokens <= maxTokens) {
      if (tokens < minimumCutTokens || text === '') return undefined;
      return { ...candidate, text, tokens, contentHash: contentHash(text), truncated: cut };
    }
    textBudget -= tokens - maxTokens;
  }
  return undefined;
}

/**
 * Replaces the oldest items by the section's summary until the rest fits beside it. Without a
 * summary, or when the summary alone is over budget, it is drop-oldest.
 */
function summariseThenDrop(tokenizer: TextTokenizer, section: ContextSection, candidates: Candidate[], budget: number, reason: DropReason): FittedSection {
  const existing = candidates.find((candidate) => candidate.summary === true);
  const items = candidates.filter((candidate) => candidate.summary !== true);
  const summary = existing ?? (section.summary === undefined ? undefined : measureItem(tokenizer, section, section.summary, true));
  const oldestFirst = (left: Candidate, right: Candidate) => compareNumbers(ageOf(right), ageOf(left));
  if (summary === undefined || summary.tokens + framing.perItem > budget) {
    const fitted = dropUntilFits(items, budget, reason, oldestFirst);
    if (existing !== undefined) fitted.dropped.unshift({ candidate: existing, reason });
    return fitted;
  }
  const fitted = dropUntilFits(items, budget - summary.tokens - framing.perItem, 'summarised', oldestFirst);
  return { kept: [summary, ...fitted.kept], dropped: fitted.dropped, cuts: [] };
}
