/**
 * The checks every store's summarizeSpend makes before it queries (store-v1.ts, SpendQueryV1), so
 * both dialects refuse the same queries with the same words.
 */
import { KeelError } from '../errors/index.ts';
import type { SpendQueryV1 } from '../spec/index.ts';
import { checkInstant } from './period.ts';
import { runTagNamePattern } from './run-tags.ts';

/** A spend query as a store runs it: the runs column to group by, and the bounds in the journal's time form. */
export type CheckedSpendQuery = {
  /** ISO-8601 UTC with milliseconds, as Date.toISOString writes it and as every run's created_at is kept. */
  since: string;
  until: string;
} & (
  | {
      /** The runs table's column for `by`: from the fixed lookup below, never from the caller's text. */
      column: 'tenant' | 'principal' | 'task';
    }
  | {
      column: 'tag';
      /** The tag's name, checked against the tag name rule; bound as a parameter all the same. */
      tag: string;
    }
);

const groupColumns: ReadonlyMap<string, CheckedSpendQuery['column']> = new Map([
  ['tenant', 'tenant'],
  ['principal', 'principal'],
  ['task', 'task'],
  ['tag', 'tag'],
]);

/** Checks a spend query; a bad one fails with usage-invalid naming what is wrong. */
export function checkSpendQuery(query: SpendQueryV1): CheckedSpendQuery {
  const by: unknown = query.by;
  const column = typeof by === 'string' ? groupColumns.get(by) : undefined;
  if (column === undefined) throw new KeelError('usage-invalid', `spend query: by must be tenant, principal, task or tag, got ${describe(by)}`);
  const tag: unknown = query.tag;
  if (column === 'tag' && (typeof tag !== 'string' || !runTagNamePattern.test(tag))) {
    throw new KeelError('usage-invalid', `spend query: by tag needs the tag's name, 1 to 64 letters, digits, '_', '.' or '-', got ${describe(tag)}`);
  }
  if (column !== 'tag' && tag !== undefined) throw new KeelError('usage-invalid', `spend query: tag ${describe(tag)} is for by tag only, not by ${column}`);
  // Both required: a missing bound is refused as any other that is not an instant.
  const since = checkInstant(query.since, 'spend query: since');
  const until = checkInstant(query.until, 'spend query: until');
  // In that form, with four-digit years, they compare as text as they do as times.
  if (since > until) throw new KeelError('usage-invalid', `spend query: since ${query.since} is after until ${query.until}`);
  const bounds = { since, until };
  return column === 'tag' ? { column, tag: tag as string, ...bounds } : { column, ...bounds };
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value);
}
