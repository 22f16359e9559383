/**
 * The checks every store's summarizeSpend makes before it queries (store-v1.ts, SpendQueryV1), so
 * both dialects refuse the same queries with the same words.
 */
import { KeelError } from '../errors/index.ts';
import type { SpendQueryV1 } from '../spec/index.ts';
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

// A date and a time with its zone (Z or an offset); seconds and their fraction optional.
const isoDateTime = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

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
  const since = instant(query.since, 'since');
  const until = instant(query.until, 'until');
  if (since > until) throw new KeelError('usage-invalid', `spend query: since ${query.since} is after until ${query.until}`);
  const bounds = { since: new Date(since).toISOString(), until: new Date(until).toISOString() };
  return column === 'tag' ? { column, tag: tag as string, ...bounds } : { column, ...bounds };
}

/**
 * The instant as milliseconds. A fraction finer than a millisecond is rounded up: created_at is
 * kept to the millisecond, so a run at millisecond t is at or after since (and before until)
 * exactly when t is at or after the rounded-up bound.
 */
function instant(value: unknown, name: 'since' | 'until'): number {
  const match = typeof value === 'string' ? isoDateTime.exec(value) : null;
  const problem = `spend query: ${name} must be an ISO-8601 time with its zone, such as 2026-11-01T00:00:00.000Z, got ${describe(value)}`;
  if (match === null) throw new KeelError('usage-invalid', problem);
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
  const fraction = match[7] ?? '';
  const sign = match[8] === '-' ? -1 : 1;
  const offsetHours = Number(match[9] ?? 0);
  const offsetMinutes = Number(match[10] ?? 0);
  const milliseconds = Number(fraction.slice(0, 3).padEnd(3, '0')) + (/[1-9]/.test(fraction.slice(3)) ? 1 : 0);
  // setUTCFullYear, not Date.UTC, which reads years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  // A day the month does not have (00, or 30 February) moves the date into another month.
  const fieldsValid = date.getUTCMonth() === month - 1 && hour <= 23 && minute <= 59 && second <= 59 && offsetHours <= 23 && offsetMinutes <= 59;
  if (!fieldsValid) throw new KeelError('usage-invalid', problem);
  const at = date.getTime() + ((hour * 60 + minute) * 60 + second) * 1000 + milliseconds - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
  // Outside years 0000-9999 toISOString writes a sign and six digits, which no stored time compares with as text.
  if (!/^\d{4}-/.test(new Date(at).toISOString())) throw new KeelError('usage-invalid', `spend query: ${name} ${describe(value)} is outside the years 0000 to 9999 in UTC`);
  return at;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value);
}
