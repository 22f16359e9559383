import { canonicalJson } from '../journal/index.ts';
import type { Candidate } from './candidate.ts';
import { compareCodeUnits, compareNumbers } from './compare.ts';
import type { ContextSection, SectionKind } from './context-spec.ts';

/**
 * Item order inside a section, from the items' content alone, never from the order they arrived in:
 * history is chronological (oldest first), retrieval best first, anything else by identity.
 */
export function orderItems(kind: SectionKind, candidates: Candidate[]): Candidate[] {
  const byKind = kind === 'history' ? byAgeOldestFirst : kind === 'retrieval' ? byScoreBestFirst : () => 0;
  return candidates.sort((left, right) => byKind(left, right) || byIdentity(left, right));
}

/** Unknown age counts as oldest: what cannot be shown to be fresh goes first when dropping oldest. */
export function ageOf(candidate: Candidate): number {
  return candidate.item.meta?.ageMs ?? Number.POSITIVE_INFINITY;
}

export function scoreOf(candidate: Candidate): number {
  return candidate.item.meta?.score ?? Number.NEGATIVE_INFINITY;
}

function byAgeOldestFirst(left: Candidate, right: Candidate): number {
  return compareNumbers(ageOf(right), ageOf(left));
}

function byScoreBestFirst(left: Candidate, right: Candidate): number {
  return compareNumbers(scoreOf(right), scoreOf(left));
}

/**
 * A total order: source, id, version, content, and — only for items that agree on all of those —
 * the canonical JSON of the whole item, so even near-duplicates differing in role or labels cannot
 * fall back on arrival order.
 */
export function byIdentity(left: Candidate, right: Candidate): number {
  return (
    compareCodeUnits(left.item.source, right.item.source) ||
    compareCodeUnits(left.item.id, right.item.id) ||
    compareCodeUnits(left.item.version, right.item.version) ||
    compareCodeUnits(left.contentHash, right.contentHash) ||
    compareCodeUnits(canonicalJson(left.item), canonicalJson(right.item))
  );
}

/** Which sections keep their tokens first: priority descending, then name. */
export function byBudgetPrecedence(left: ContextSection, right: ContextSection): number {
  return compareNumbers(right.priority, left.priority) || compareCodeUnits(left.name, right.name);
}

/** Where sections go in the prompt: position ascending, then budget precedence. */
export function byPromptPosition(left: ContextSection, right: ContextSection): number {
  return compareNumbers(left.position ?? 0, right.position ?? 0) || byBudgetPrecedence(left, right);
}
