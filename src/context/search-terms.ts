/**
 * How the folder retriever splits text into terms, for indexing, querying and coverage alike, so a
 * query term counts as covered exactly when the index could have matched it. Locale-independent:
 * Unicode letter/number runs, `toLowerCase` (not `toLocaleLowerCase`).
 */
const wordPattern = /[\p{L}\p{N}]+/gu;

// Words that carry no topic: a query's "how do I …" must not count against its coverage.
const stopWords: ReadonlySet<string> = new Set(
  ('a an and are as at be but by can do does for from has have how i if in into is it its me my no not of on or our so ' +
    'than that the their then there these they this to was we were what when where which who why will with you your').split(' '),
);

export function splitWords(text: string): string[] {
  return text.match(wordPattern) ?? [];
}

/** A word as the index stores it, or null for a stop word. */
export function normaliseTerm(word: string): string | null {
  const term = word.toLowerCase();
  return stopWords.has(term) ? null : term;
}

/** The distinct terms of a query, in first-seen order. */
export function queryTerms(query: string): string[] {
  const terms = new Set<string>();
  for (const word of splitWords(query)) {
    const term = normaliseTerm(word);
    if (term !== null) terms.add(term);
  }
  return [...terms];
}
