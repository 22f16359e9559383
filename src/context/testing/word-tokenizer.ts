import type { ContextItem, TextTokenizer } from '../context-spec.ts';

/** One token a whitespace-separated word: budgets in tests become arithmetic you can check by eye. */
export const wordTokenizer: TextTokenizer = {
  name: 'words',
  estimated: true,
  count: (text) => text.split(/\s+/).filter((word) => word !== '').length,
};

/** `count` words: w0 w1 … */
export function words(count: number, prefix = 'w'): string {
  return Array.from({ length: count }, (_, index) => `${prefix}${index}`).join(' ');
}

/** An item of `count` words; as a message it costs count + 4 tokens. */
export function wordItem(id: string, count: number, extra: Partial<ContextItem> = {}): ContextItem {
  return { source: 'test', id, version: '1', text: words(count, `${id}-`), labels: { tenants: [], origins: [] }, ...extra };
}
